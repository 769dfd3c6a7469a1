"""Turn validation failures into one line: ``file: key.path: what was expected, got what``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import ValidationError


class SpecError(ValueError):
    """A spec problem, already formatted as ``<file>: <key path>: <message>``; always one line."""

    def __init__(self, message: str) -> None:
        super().__init__(one_line(message))


def one_line(text: str) -> str:
    """``text`` with every unprintable character (line breaks, escapes) written as Python writes it: one line."""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)


def format_key_path(prefix: str, loc: tuple[Any, ...]) -> str:
    """``experiments[1]`` + ('optimizer', 'lr') -> ``experiments[1].optimizer.lr``."""
    path = prefix
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            name = str(part) if str(part).isprintable() else repr(str(part))
            path += f".{name}" if path and not path.endswith(" ") else name
    return path


def _allowed_keys(model: type | None, loc: tuple[Any, ...]) -> list[str]:
    """Field names of the spec section that an unknown key ``loc`` was found in."""
    from pydantic import BaseModel

    current: Any = model
    for part in loc[:-1]:
        if not (isinstance(current, type) and issubclass(current, BaseModel)) or not isinstance(part, str):
            return []
        field = current.model_fields.get(part)
        if field is None:
            return []
        current = _model_in_annotation(field.annotation)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _model_in_annotation(annotation: Any) -> Any:
    from pydantic import BaseModel

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _model_in_annotation(arg)
        if found is not None:
            return found
    return None


def unknown_key(key: str, allowed: list[str] | tuple[str, ...]) -> str:
    """``unknown key, did you mean 'epochs'? (expected one of: ...)``: the closest allowed key first."""
    import difflib

    close = difflib.get_close_matches(key, list(allowed), n=1)
    suggestion = f", did you mean {close[0]!r}?" if close else ""
    expected = f" (expected one of: {', '.join(allowed)})" if allowed else ""
    return f"unknown key{suggestion}{expected}"


def describe_error(error: dict[str, Any], model: type | None = None) -> str:
    """Human text for one pydantic error dict: what was expected and what was given."""
    kind, ctx, value = error["type"], error.get("ctx") or {}, error.get("input")
    got = f", got {value!r}"
    comparisons = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<", "less_than_equal": "<="}
    if kind in comparisons:
        bound = next(iter(ctx.values()))
        bound_text = f"{bound:g}" if isinstance(bound, float) else str(bound)
        return f"must be {comparisons[kind]} {bound_text}{got}"
    if kind == "extra_forbidden":
        return unknown_key(str(error["loc"][-1]), _allowed_keys(model, tuple(error["loc"])))
    if kind == "missing":
        return "required key is missing"
    if kind == "literal_error":
        return f"must be {ctx.get('expected', 'one of the allowed values')}{got}"
    if kind in {"int_type", "int_parsing", "int_from_float"}:
        return f"must be an integer{got}"
    if kind in {"float_type", "float_parsing"}:
        return f"must be a number{got}"
    if kind == "finite_number":
        return f"must be a finite number{got}"
    if kind in {"bool_type", "bool_parsing"}:
        return f"must be true or false{got}"
    if kind in {"string_type"}:
        return f"must be a string{got}"
    if kind in {"list_type"}:
        return f"must be a list{got}"
    if kind in {"dict_type", "model_type", "model_attributes_type"}:
        return f"must be a table{got}"
    if kind == "too_short":
        return f"must have at least {ctx.get('min_length')} item(s){got}"
    if kind == "too_long":
        return f"must have at most {ctx.get('max_length')} items, got {ctx.get('actual_length')}"
    if kind == "string_too_short":
        return f"must not be empty{got}"
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    return f"{error['msg'].lower()}{got}"


def spec_error_from_validation(
    source: str,
    prefix: str,
    exc: ValidationError,
    model: type | None,
    locate: Callable[[tuple[Any, ...]], tuple[str, str]] | None = None,
) -> SpecError:
    """One-line SpecError for the first problem, counting the rest.

    ``locate`` maps the failing key path to (prefix, suffix) naming where the value came from
    (e.g. ``defaults`` or the matrix); without it ``prefix`` is used.
    """
    errors = exc.errors()
    first = _most_specific(errors)
    loc = _clean_loc(first["loc"])
    where, suffix = locate(loc) if locate else (prefix, "")
    line = f"{source}: {format_key_path(where, loc)}: {describe_error(first, model)}{suffix}"
    others = len({_clean_loc(error["loc"]) for error in errors}) - 1
    if others > 0:
        line += f" (and {others} more problem{'s' if others > 1 else ''})"
    return SpecError(line)


def _clean_loc(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(part for part in loc if not _is_union_tag(part))


def _is_union_tag(part: Any) -> bool:
    """Pydantic adds union member tags like 'list[str]' or 'literal[...]' to error locations."""
    return isinstance(part, str) and ("[" in part or part in {"int", "str", "float", "bool"})


def _most_specific(errors: list[dict[str, Any]]) -> dict[str, Any]:
    """An unknown key first (a typo also makes the key it meant missing), then the error that says most."""
    for error in errors:
        if error["type"] == "extra_forbidden":
            return error
    for error in errors:
        if error["type"] not in {"literal_error", "list_type", "string_type", "int_type", "bool_type"}:
            return error
    return errors[0]

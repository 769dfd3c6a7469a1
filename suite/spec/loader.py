"""Read a study file (TOML or YAML), merge defaults, expand matrices and seeds, validate every run.

Precedence: model defaults < ``[defaults]`` < the experiment < its matrix values < ``--set`` overrides.
``--set KEY=a,b,c`` sweeps: it expands into a grid like a ``[matrix]`` entry. A ``tune`` section (``[study]``,
merged with an experiment's own) maps each configuration to how it is tuned (:mod:`suite.tuning`).
Any problem raises :class:`SpecError` with one line naming the file, the key path and what was expected.
"""

from __future__ import annotations

import copy
import itertools
import math
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from suite.spec.errors import SpecError, spec_error_from_validation, unknown_key
from suite.spec.models import SEED_MAX, ExperimentSpec, StudyHeader, name_problem, study_name_problem
from suite.spec.strict_yaml import load_strict_yaml
from suite.tuning.space import TuneSpec

TOP_LEVEL_KEYS = ("study", "defaults", "matrix", "experiments")
MATRIX_ALIASES = {
    "model": "model.name",
    "weights": "model.weights",
    "depth": "model.depth",
    "freeze": "strategy.freeze",
    "freeze_blocks": "strategy.freeze_blocks",
    "lr": "optimizer.lr",
    "optimizer": "optimizer.name",
    "epochs": "training.epochs",
    "batch_size": "training.batch_size",
    "precision": "training.precision",
}


@dataclass(frozen=True)
class Study:
    """A validated study: its name, the file it came from and the expanded runs."""

    name: str
    source: Path
    seeds: list[int]
    runs: list[ExperimentSpec]
    description: str | None = None
    mlflow: str | None = None  # [study] tracking.mlflow: a tracking URI, or "local" for OUT/mlflow.db
    tune: dict[str, TuneSpec] = field(default_factory=dict)
    """Tuned configurations (run name without its seed) -> how each is tuned; empty for an untuned study."""


def read_spec_file(path: Path) -> dict[str, Any]:
    """Parse a TOML (``.toml``) or YAML (``.yaml``/``.yml``) file into a dict.

    Anything else (a missing file, a directory, binary or non-UTF-8 bytes, malformed TOML/YAML, a top level
    that is not a table) raises :class:`SpecError` with one line naming the file and the problem.
    """
    text = _read_text(path)
    is_yaml = path.suffix in {".yaml", ".yml"}
    if not text.strip():
        raise SpecError(f"{path.name}: the file is empty; a study needs at least one [[experiments]] table")
    try:
        data = load_strict_yaml(text) if is_yaml else tomllib.loads(text)
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        raise SpecError(f"{path.name}: not valid {'YAML' if is_yaml else 'TOML'}: {_parse_problem(exc)}") from None
    except RecursionError:
        raise SpecError(f"{path.name}: not valid {'YAML' if is_yaml else 'TOML'}: nested too deeply") from None
    if not isinstance(data, dict):
        kind = _KIND_NAMES.get(type(data), type(data).__name__)
        raise SpecError(f"{path.name}: the file must hold a table of keys ([study], [[experiments]]), got {kind}")
    return data


_KIND_NAMES = {
    type(None): "nothing",
    list: "a list",
    str: "a string",
    int: "a number",
    float: "a number",
    bool: "true/false",
}


def _read_text(path: Path) -> str:
    """The file's text (UTF-8, a leading BOM allowed), or SpecError saying why it cannot be read."""
    if path.is_dir():
        raise SpecError(f"{path}: is a directory, not a spec file")
    if path.exists() and not path.is_file():
        raise SpecError(f"{path}: not a regular file")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SpecError(f"{path}: cannot read file ({exc.strerror or exc})") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        byte = raw[exc.start]
        raise SpecError(
            f"{path.name}: not a UTF-8 text file (byte 0x{byte:02x} at offset {exc.start}); a spec is TOML or YAML"
        ) from None


def _parse_problem(exc: Exception) -> str:
    """One line saying what the TOML/YAML parser found and where."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None)
    if problem and mark is not None:
        context = getattr(exc, "context", None)
        return f"{context + ': ' if context else ''}{problem} (line {mark.line + 1}, column {mark.column + 1})"
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


def load_study(
    path: str | Path,
    overrides: list[str] | tuple[str, ...] = (),
    seeds: list[int] | None = None,
    on_count: Callable[[int], None] | None = None,
) -> Study:
    """Load, expand and validate a study file.

    ``overrides`` are ``key.path=value`` strings (``--set``); ``seeds`` (``--seeds``) replaces the study's seeds
    exactly as if ``[study] seeds`` said so; ``on_count`` hears the run count before the runs are built.
    """
    path = Path(path)
    data = read_spec_file(path)
    return build_study(data, source=path, overrides=overrides, seeds=seeds, on_count=on_count)


def build_study(
    data: dict[str, Any],
    source: Path,
    overrides: list[str] | tuple[str, ...] = (),
    seeds: list[int] | None = None,
    on_count: Callable[[int], None] | None = None,
) -> Study:
    """Expand and validate an already-parsed study dict (``overrides`` and ``seeds`` as in :func:`load_study`).

    The run count is computed from the matrix sizes before any run is built: above ``[study] max_runs`` it is a
    SpecError, else ``on_count`` (when given) hears it first.
    """
    label = source.name
    unknown = [key for key in data if key not in TOP_LEVEL_KEYS]
    if unknown:
        raise SpecError(f"{label}: {unknown[0]}: {unknown_key(str(unknown[0]), TOP_LEVEL_KEYS)}")
    study_table = _require_table(data.get("study", {}), label, "study")
    seeds_key = "[study].seeds" if "seeds" in study_table else None
    if seeds is not None:
        problem = seeds_problem(seeds)
        if problem:
            raise SpecError(f"{label}: --seeds: {problem}")
        study_table, seeds_key = {**study_table, "seeds": list(seeds)}, "--seeds"
    header = _validate_header(study_table, label)
    name = _study_name(header, source, label)
    experiments = data.get("experiments")
    if not isinstance(experiments, list) or not experiments:
        raise SpecError(f"{label}: experiments: must be a non-empty list of tables ([[experiments]])")
    defaults = _require_table(data.get("defaults", {}), label, "defaults")
    top_matrix = _validate_matrix(data.get("matrix", {}), label, "matrix")
    count = _run_count(experiments, top_matrix, len(header.seeds) if seeds_key else 1, label)
    if count > header.max_runs:
        raise SpecError(
            f"{label}: study.max_runs: the study expands to {count:,} runs, more than {header.max_runs:,}; "
            "shrink the matrix or raise [study] max_runs"
        )
    if on_count is not None:
        on_count(count)
    parsed_overrides = [_parse_override(text, label) for text in overrides]
    sweeps = {key: list(value) for key, value in parsed_overrides if isinstance(value, _Sweep)}
    fixed = [(key, value) for key, value in parsed_overrides if not isinstance(value, _Sweep)]
    runs: list[ExperimentSpec] = []
    tune: dict[str, TuneSpec] = {}
    for index, experiment in enumerate(experiments):
        prefix = f"experiments[{index}]"
        experiment = _require_table(experiment, label, prefix)
        matrix = {**top_matrix, **sweeps}
        expanded, tuned = _expand_experiment(
            experiment, defaults, matrix, fixed, header.seeds, seeds_key, label, prefix, study_table.get("tune")
        )
        runs.extend(expanded)
        tune.update(tuned)
    _check_unique_names(runs, label)
    mlflow = header.tracking.mlflow_uri
    return Study(name, source, header.seeds, runs, header.description, mlflow, tune)


def seeds_problem(seeds: Any) -> str | None:
    """Why ``seeds`` is not a usable list of seeds (non-empty, distinct integers in 0..2**32-1), or None."""
    if not isinstance(seeds, (list, tuple)) or not seeds:
        return f"must be a non-empty list of integers, got {seeds!r}"
    for seed in seeds:
        if isinstance(seed, bool) or not isinstance(seed, int):
            return f"must be an integer, got {seed!r}"
        if not 0 <= seed <= SEED_MAX:
            return f"must be in 0..{SEED_MAX}, got {seed}"
    repeated = sorted({seed for seed in seeds if list(seeds).count(seed) > 1})
    if repeated:
        return f"seed {repeated[0]} is given twice; each seed makes one run per experiment"
    return None


def parse_seeds(text: str) -> list[int]:
    """``"0,1,2"`` -> ``[0, 1, 2]`` (``--seeds``); SpecError with one line for anything else (``0,x``, ``-1``)."""
    seeds = []
    for item in (part.strip() for part in text.split(",")):
        if not re.fullmatch(r"[0-9]+", item):
            raise SpecError(
                f"--seeds: {item!r} is not a seed; give comma-separated integers in 0..{SEED_MAX}, e.g. 0,1,2"
            )
        if len(item.lstrip("0")) > len(str(SEED_MAX)) or int(item) > SEED_MAX:
            raise SpecError(f"--seeds: must be in 0..{SEED_MAX}, got {item}")
        seeds.append(int(item))
    problem = seeds_problem(seeds)
    if problem:
        raise SpecError(f"--seeds: {problem}")
    return seeds


def _study_name(header: StudyHeader, source: Path, label: str) -> str:
    """``[study] name``, else the file's stem when that is a usable directory name."""
    if header.name is not None:
        return header.name
    problem = study_name_problem(source.stem)
    if problem:
        raise SpecError(f"{label}: study.name: missing, and the file name cannot stand in for it: {problem}")
    return source.stem


def _validate_header(raw: Any, label: str) -> StudyHeader:
    raw = _require_table(raw, label, "study")
    try:
        return StudyHeader.model_validate(raw)
    except ValidationError as exc:
        raise spec_error_from_validation(label, "study", exc, StudyHeader) from None


def _require_table(value: Any, label: str, key: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise SpecError(f"{label}: {key}: must be a table, got {value!r}")
    return value


def _run_count(experiments: list[Any], top_matrix: dict[str, list[Any]], seeds: int, label: str) -> int:
    """How many runs the experiments expand to: the product of each one's matrix sizes, times the seeds."""
    total = 0
    for index, experiment in enumerate(experiments):
        prefix = f"experiments[{index}]"
        own = _validate_matrix(_require_table(experiment, label, prefix).get("matrix", {}), label, f"{prefix}.matrix")
        total += math.prod(len(values) for values in {**top_matrix, **own}.values()) * seeds
    return total


def _validate_matrix(raw: Any, label: str, key: str) -> dict[str, list[Any]]:
    matrix = _require_table(raw, label, key)
    for name, values in matrix.items():
        if not isinstance(name, str) or not name:
            raise SpecError(f"{label}: {key}: keys must be spec keys like lr or training.epochs, got {name!r}")
        if not isinstance(values, list) or not values:
            raise SpecError(f"{label}: {key}.{name}: must be a non-empty list of values, got {values!r}")
    return matrix


def _expand_experiment(
    experiment: dict[str, Any],
    defaults: dict[str, Any],
    top_matrix: dict[str, list[Any]],
    overrides: list[tuple[str, Any]],
    seeds: list[int],
    seeds_key: str | None,
    label: str,
    prefix: str,
    study_tune: Any = None,
) -> tuple[list[ExperimentSpec], dict[str, TuneSpec]]:
    """The experiment's runs, and its configurations -> ``tune`` section when it is tuned."""
    experiment = dict(experiment)
    own_matrix = _validate_matrix(experiment.pop("matrix", {}), label, f"{prefix}.matrix")
    tune = _experiment_tune(study_tune, experiment.pop("tune", None), label, prefix)
    base = deep_merge(defaults, experiment)
    if not isinstance(base.get("name"), str) or not base["name"]:
        raise SpecError(f"{label}: {prefix}.name: required key is missing (each experiment needs a name)")
    problem = name_problem(base["name"])
    if problem:
        raise SpecError(f"{label}: {prefix}.name: {problem}")
    if seeds_key and "seed" in base:
        raise SpecError(f"{label}: {prefix}.seed: give seeds in {seeds_key} or here, not both")
    run_seeds = seeds if seeds_key else [base.pop("seed", 0)]
    matrix = {**top_matrix, **own_matrix}
    matrix_prefix = {key: (f"{prefix}.matrix" if key in own_matrix else "matrix") for key in matrix}
    origins = _Origins(prefix, experiment, defaults, matrix_prefix)
    runs, tuned = [], {}
    for combo in _combinations(matrix):
        combo_runs = [
            _resolve_run(base, combo, overrides, seed, len(run_seeds) > 1, label, origins) for seed in run_seeds
        ]
        runs.extend(combo_runs)
        if tune is not None:
            _check_space(tune, combo_runs[0], matrix, label, prefix)
            tuned[run_name(base["name"], combo, None)] = tune
    return runs, tuned


def _experiment_tune(study_tune: Any, own: Any, label: str, prefix: str) -> TuneSpec | None:
    """The experiment's ``tune`` merged over ``[study] tune`` (already validated there), or None."""
    if own is None:
        return None if study_tune is None else TuneSpec.model_validate(study_tune)
    own = _require_table(own, label, f"{prefix}.tune")
    merged = deep_merge(study_tune or {}, own)
    try:
        return TuneSpec.model_validate(merged)
    except ValidationError as exc:
        raise spec_error_from_validation(label, f"{prefix}.tune", exc, TuneSpec) from None


def _check_space(tune: TuneSpec, run: ExperimentSpec, matrix: dict[str, list[Any]], label: str, prefix: str) -> None:
    """Each searched key is an unswept spec key; both ends of its range (every choice) make a valid run."""
    swept = {resolve_key(key) for key in matrix}
    for key, param in tune.space.items():
        where = f"{prefix}.tune.space.{key}"
        if resolve_key(key) in swept:
            raise SpecError(f"{label}: {where}: also swept by a matrix or --set; a key is either swept or tuned")
        if resolve_key(key) in {"name", "seed", "backend", "engine"}:
            raise SpecError(f"{label}: {where}: cannot be tuned (it names the run, its seed or its backend)")
        for value in param.values:
            with_values(run, {key: value}, label, where)


def with_values(
    run: ExperimentSpec, values: dict[str, Any], label: str, where: str, name: str | None = None
) -> ExperimentSpec:
    """``run`` with each key (an alias or a dotted path) set to its value, optionally renamed.

    Raises SpecError naming ``where`` when the values make an invalid run.
    """
    data = run.model_dump(mode="json", exclude_none=True)
    for key, value in values.items():
        set_path(data, resolve_key(key), value, label, where)
    if name is not None:
        data["name"] = name
    try:
        return ExperimentSpec.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        at = ".".join(str(part) for part in first["loc"])
        raise SpecError(f"{label}: {where}: {values} make an invalid run ({at}: {first['msg']})") from None


def _combinations(matrix: dict[str, list[Any]]) -> list[list[tuple[str, Any]]]:
    keys = list(matrix)
    return [list(zip(keys, values, strict=True)) for values in itertools.product(*(matrix[k] for k in keys))]


def _resolve_run(
    base: dict[str, Any],
    combo: list[tuple[str, Any]],
    overrides: list[tuple[str, Any]],
    seed: int,
    show_seed: bool,
    label: str,
    origins: _Origins,
) -> ExperimentSpec:
    resolved = copy.deepcopy(base)
    for key, value in combo:
        set_path(resolved, resolve_key(key), value, label, f"{origins.prefix}.matrix.{key}")
    for key, value in overrides:
        set_path(resolved, resolve_key(key), value, label, f"--set {key}")
    resolved["seed"] = seed
    resolved["name"] = run_name(base["name"], combo, seed if show_seed else None)
    try:
        return ExperimentSpec.model_validate(resolved)
    except ValidationError as exc:
        locate = origins.locator(combo, overrides, resolved["name"])
        raise spec_error_from_validation(label, origins.prefix, exc, ExperimentSpec, locate) from None


@dataclass(frozen=True)
class _Origins:
    """Where an experiment's values come from, to name the right key in an error."""

    prefix: str
    experiment: dict[str, Any]
    defaults: dict[str, Any]
    matrix_prefix: dict[str, str]

    def locator(
        self, combo: list[tuple[str, Any]], overrides: list[tuple[str, Any]], run: str
    ) -> Callable[[tuple[Any, ...]], tuple[str, str]]:
        """Function mapping a failing key path to (prefix, suffix): --set, matrix, experiment or defaults."""

        def locate(loc: tuple[Any, ...]) -> tuple[str, str]:
            dotted = ".".join(str(part) for part in loc if isinstance(part, str))
            for key, _ in reversed(overrides):
                if _covers(resolve_key(key), dotted):
                    return "--set ", ""
            for key, _ in combo:
                if _covers(resolve_key(key), dotted):
                    return self.matrix_prefix.get(key, "matrix"), f" (matrix value {key}, in run {run})"
            if _has_path(self.experiment, loc) or not _has_path(self.defaults, loc):
                return self.prefix, ""
            return "defaults", ""

        return locate


def _covers(key_path: str, dotted: str) -> bool:
    return dotted == key_path or dotted.startswith(key_path + ".") or key_path.startswith(dotted + ".")


def _has_path(data: Any, loc: tuple[Any, ...]) -> bool:
    for part in loc:
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and isinstance(part, int) and part < len(data):
            data = data[part]
        else:
            return False
    return True


def resolve_key(key: str) -> str:
    """Matrix/override alias -> dotted path (``lr`` -> ``optimizer.lr``)."""
    return MATRIX_ALIASES.get(key, key)


def set_path(target: dict[str, Any], dotted: str, value: Any, label: str, where: str) -> None:
    """Set ``a.b.c = value`` inside nested dicts, creating tables on the way."""
    parts = dotted.split(".")
    node = target
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise SpecError(f"{label}: {where}: cannot set {dotted!r}: {part!r} is not a table")
        node = child
    node[parts[-1]] = copy.deepcopy(value)


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Recursive dict merge; ``override`` wins, nested tables merge key by key."""
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def run_name(base: str, combo: list[tuple[str, Any]], seed: int | None) -> str:
    """``simple_cnn`` + [(backend, keras)] -> ``simple_cnn[backend=keras]`` (seed appended when repeated)."""
    parts = [f"{key}={_format_value(value)}" for key, value in combo]
    if seed is not None:
        parts.append(f"seed={seed}")
    return f"{base}[{','.join(parts)}]" if parts else base


def _format_value(value: Any) -> str:
    if isinstance(value, list):
        return "+".join(_format_value(item) for item in value) or "[]"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dict):
        return ";".join(f"{k}:{_format_value(v)}" for k, v in value.items())
    return str(value)


class _Sweep(list):
    """The values of ``--set KEY=a,b,c``: a grid axis, expanded like a ``[matrix]`` entry."""


def _parse_override(text: str, label: str) -> tuple[str, Any]:
    """``KEY=VALUE`` -> (key, value); ``KEY=a,b,c`` (not one TOML value) -> (key, :class:`_Sweep`)."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise SpecError(f"{label}: --set {text!r}: expected KEY=VALUE, e.g. training.epochs=1")
    key, raw = key.strip(), raw.strip()
    value = _toml_value(raw)
    if value is not None or "," not in raw:
        return key, raw if value is None else value
    items = [item.strip() for item in raw.split(",")]
    hint = f"a value holding a comma is quoted: --set {key}='\"a,b\"'"
    if not all(items):
        raise SpecError(f"{label}: --set {key}={raw}: an empty value between commas; {hint}")
    values = [item if _toml_value(item) is None else _toml_value(item) for item in items]
    kinds = {"number" if isinstance(v, (int, float)) and not isinstance(v, bool) else type(v).__name__ for v in values}
    if len(kinds) > 1:
        raise SpecError(
            f"{label}: --set {key}={raw}: the comma-separated values mix {' and '.join(sorted(kinds))}; {hint}"
        )
    if len({repr(v) for v in values}) < len(values):
        raise SpecError(f"{label}: --set {key}={raw}: a value is given twice")
    return key, _Sweep(values)


def _toml_value(raw: str) -> Any:
    """``raw`` read as one TOML value, or None when it is not one."""
    try:
        return tomllib.loads(f"value = {raw}")["value"]
    except tomllib.TOMLDecodeError:
        return None


def _check_unique_names(runs: list[ExperimentSpec], label: str) -> None:
    seen: set[str] = set()
    for run in runs:
        if run.name in seen:
            raise SpecError(
                f"{label}: experiments: two runs are both named {run.name!r}; give experiments distinct names"
            )
        seen.add(run.name)

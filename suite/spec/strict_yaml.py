"""YAML that means exactly what it says: plain scalars, lists and mappings, each key once.

Numbers are read as YAML 1.2 reads them (``1e-3`` is a float). PyYAML's ``safe_load`` keeps the last of two
equal keys and builds sets, timestamps, binary and ordered pairs from ``!!`` tags; a spec needs none of them,
so here a repeated key and any tag beyond the plain types are errors naming the line. Used by
:func:`suite.spec.loader.read_spec_file`.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node

_PLAIN_TAGS = {f"tag:yaml.org,2002:{name}" for name in ("null", "bool", "int", "float", "str", "seq", "map")}


class StrictSafeLoader(yaml.SafeLoader):
    """A SafeLoader that refuses repeated keys and every tag outside :data:`_PLAIN_TAGS`."""

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        """The mapping of ``node``; ConstructorError at the second occurrence of a key."""
        seen: set[Any] = set()
        for key_node, _ in node.value:  # before merge keys (<<) are flattened in: those may be overridden
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                repeated = key in seen
            except TypeError:  # an unhashable key: the base constructor says so
                break
            if repeated:
                raise ConstructorError(
                    "while constructing a mapping", node.start_mark, f"key {key!r} is given twice", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _refuse_tag(loader: StrictSafeLoader, node: Node) -> Any:
    short = node.tag.replace("tag:yaml.org,2002:", "!!")
    problem = f"tag {short} is not allowed in a spec: plain values only (quote a value to keep it a string)"
    raise ConstructorError(None, None, problem, node.start_mark)


StrictSafeLoader.add_implicit_resolver(  # ``1e-3`` (no dot) is a number, as in TOML and YAML 1.2 (PyYAML: a string)
    "tag:yaml.org,2002:float", re.compile(r"^[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"), list("-+0123456789")
)

for _tag in list(yaml.SafeLoader.yaml_constructors):
    if _tag not in _PLAIN_TAGS:
        StrictSafeLoader.add_constructor(_tag, _refuse_tag)


def load_strict_yaml(text: str) -> Any:
    """Parse one YAML document with :class:`StrictSafeLoader` (``yaml.YAMLError`` on any problem)."""
    return yaml.load(text, Loader=StrictSafeLoader)  # noqa: S506 - a SafeLoader subclass

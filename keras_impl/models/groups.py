"""Assign a backbone's layers to named groups from the family's name rules."""

from __future__ import annotations

import re
from typing import Any

from keras_impl.models.families import GroupRules

FIRST_GROUP = "stem"


def group_layers(layers: list[Any], rules: GroupRules) -> dict[str, list[Any]]:
    """Ordered ``{group: [layers]}``; unmatched layers join the previous layer's group.

    Input layers are skipped. Layers before any rule matches go to ``"stem"``.
    """
    compiled = [(re.compile(pattern), template) for pattern, template in rules]
    groups: dict[str, list[Any]] = {}
    current = FIRST_GROUP
    for layer in layers:
        if type(layer).__name__ == "InputLayer":
            continue
        current = _match(layer.name, compiled) or current
        groups.setdefault(current, []).append(layer)
    return groups


def _match(name: str, compiled: list[tuple[re.Pattern[str], Any]]) -> str | None:
    for pattern, template in compiled:
        found = pattern.match(name)
        if found:
            return template(found) if callable(template) else template.format(*found.groups())
    return None

"""Backend-neutral layer-group selection: which named groups a strategy freezes or unfreezes.

Runners describe a model as an ordered list of group names ending with ``"head"``; these functions turn
the spec's strategy into group names, and each runner applies them with its framework's operations.
Wherever a spec names groups it may also write ``"last:N"``: the N groups just before the head, so one
spec means the same on every model and backend.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

HEAD_GROUP = "head"
_LAST = re.compile(r"^last:(\d+)$")


def body_groups(names: list[str]) -> list[str]:
    """Every group but the head, in network order."""
    return [name for name in names if name != HEAD_GROUP]


def expand_group_names(requested: Iterable[str], names: list[str], where: str) -> list[str]:
    """``requested`` with each ``"last:N"`` replaced by the N groups before the head; unknown names are an error."""
    body = body_groups(names)
    expanded: list[str] = []
    unknown: list[str] = []
    for item in requested:
        match = _LAST.match(item)
        if match is None:
            (expanded if item in names else unknown).append(item)
            continue
        count = int(match.group(1))
        if not 1 <= count <= len(body):
            raise ValueError(f"{where}: {item!r} needs 1 <= N <= {len(body)} (groups before the head: {len(body)})")
        expanded.extend(body[-count:])
    if unknown:
        raise ValueError(f"{where}: unknown layer group(s) {', '.join(map(repr, unknown))}; valid: {', '.join(names)}")
    return expanded


def initially_frozen(strategy: Any, names: list[str]) -> list[str]:
    """Groups frozen at the start, in network order.

    ``freeze="none"`` -> none; ``"all_but_head"`` -> every group but the head; a list -> those groups;
    ``freeze_blocks=N`` -> the first N groups (the head is never among them).
    """
    body = body_groups(names)
    if strategy.freeze_blocks is not None:
        if strategy.freeze_blocks > len(body):
            raise ValueError(
                f"freeze_blocks = {strategy.freeze_blocks} but the model has only {len(body)} groups before the head "
                f"({', '.join(body)})"
            )
        return body[: strategy.freeze_blocks]
    if strategy.freeze == "none":
        return []
    if strategy.freeze == "all_but_head":
        return body
    chosen = set(expand_group_names(strategy.freeze, names, "strategy.freeze"))
    return [name for name in names if name in chosen]


def unfreeze_targets(requested: str | list[str], names: list[str], where: str) -> list[str]:
    """Group names a fine-tuning / unfreeze step turns on (``"all"`` = every group), in network order."""
    if requested == "all":
        return list(names)
    chosen = set(expand_group_names(requested, names, where))
    return [name for name in names if name in chosen]

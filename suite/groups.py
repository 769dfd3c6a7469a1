"""Backend-neutral layer-group selection: which named groups a strategy freezes or unfreezes.

Runners describe a model as an ordered list of group names ending with ``"head"``; these functions turn
the spec's strategy into group names, and each runner applies them with its framework's operations.
"""

from __future__ import annotations

from collections.abc import Iterable

from suite.spec.models import StrategySpec

HEAD_GROUP = "head"


def require_known(requested: Iterable[str], names: list[str], where: str) -> None:
    """ValueError naming the valid groups when ``requested`` holds an unknown one."""
    unknown = [name for name in requested if name not in names]
    if unknown:
        raise ValueError(f"{where}: unknown layer group(s) {', '.join(map(repr, unknown))}; valid: {', '.join(names)}")


def initially_frozen(strategy: StrategySpec, names: list[str]) -> list[str]:
    """Groups frozen at the start, in network order.

    ``freeze="none"`` -> none; ``"all_but_head"`` -> every group but the head; a list -> those groups;
    ``freeze_blocks=N`` -> the first N groups (the head is never among them).
    """
    body = [name for name in names if name != HEAD_GROUP]
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
    require_known(strategy.freeze, names, "strategy.freeze")
    return [name for name in names if name in set(strategy.freeze)]


def unfreeze_targets(requested: str | list[str], names: list[str], where: str) -> list[str]:
    """Group names a fine-tuning / unfreeze step turns on (``"all"`` = every group), in network order."""
    if requested == "all":
        return list(names)
    require_known(requested, names, where)
    return [name for name in names if name in set(requested)]

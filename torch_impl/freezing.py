"""Named transfer-learning operations on layer groups: which groups freeze, unfreeze, and BatchNorm mode."""

from __future__ import annotations

from collections.abc import Iterable

from torch import nn

from suite.spec.models import StrategySpec
from torch_impl.models import BuiltModel


def initially_frozen(strategy: StrategySpec, names: list[str]) -> list[str]:
    """Groups frozen at the start, in network order.

    ``names`` ends with ``"head"``, which ``freeze_blocks`` never freezes.
    """
    body = names[:-1]
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
    """Group names a finetune/unfreeze step turns on (``"all"`` = every group)."""
    if requested == "all":
        return list(names)
    require_known(requested, names, where)
    return [name for name in names if name in set(requested)]


def require_known(requested: Iterable[str], names: list[str], where: str) -> None:
    """ValueError naming the valid groups when ``requested`` holds an unknown one."""
    unknown = [name for name in requested if name not in names]
    if unknown:
        raise ValueError(f"{where}: unknown layer group(s) {', '.join(map(repr, unknown))}; valid: {', '.join(names)}")


def set_requires_grad(built: BuiltModel, frozen: set[str]) -> None:
    """Freeze the parameters of the groups in ``frozen``; every other group trains."""
    for name, modules in built.groups.items():
        for module in modules:
            for parameter in module.parameters():
                parameter.requires_grad_(name not in frozen)


def set_train_mode(built: BuiltModel, frozen: set[str], bn_mode: str) -> None:
    """``train()`` the network, then put BatchNorm of frozen groups in eval mode when ``bn_mode == "frozen"``."""
    built.module.train()
    if bn_mode != "frozen":
        return
    for name in frozen:
        for module in built.groups[name]:
            for layer in module.modules():
                if isinstance(layer, nn.modules.batchnorm._BatchNorm):
                    layer.eval()

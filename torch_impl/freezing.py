"""Named transfer-learning operations on layer groups: which groups freeze, unfreeze, and BatchNorm mode."""

from __future__ import annotations

from torch import nn

from suite.groups import initially_frozen, require_known, unfreeze_targets
from torch_impl.models import BuiltModel

__all__ = ["initially_frozen", "require_known", "set_requires_grad", "set_train_mode", "unfreeze_targets"]


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

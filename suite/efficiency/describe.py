"""The costs ``suite describe`` prints: forward FLOPs per image and, for one freezing, the training costs."""

from __future__ import annotations

from typing import Any

from suite.architectures.groups import initially_frozen
from suite.efficiency.flops import forward_flops, train_flops
from suite.efficiency.state import trainable_state_bytes
from suite.runners.protocol import ModelDescription

DESCRIBE_OPTIMIZER = {"name": "adam"}


def training_costs(description: ModelDescription, strategy: dict[str, Any] | None) -> dict[str, Any]:
    """Forward FLOPs per image, in total (``forward_flops``) and per group (``group_flops``).

    With a ``strategy`` table (``freeze`` / ``freeze_blocks``) also ``frozen``, ``train_flops``,
    ``trainable_params`` and ``state_bytes`` (Adam). A freezing the model cannot take raises ValueError.
    """
    layers = description.layer_costs
    group_flops = {
        name: forward_flops(layer for layer in layers if layer.group == name) for name in description.group_names
    }
    costs: dict[str, Any] = {"forward_flops": forward_flops(layers), "group_flops": group_flops}
    if strategy is None:
        return costs
    from suite.spec.models import StrategySpec

    names = description.group_names
    frozen = initially_frozen(StrategySpec.model_validate(strategy), names)
    trainable = [name for name in names if name not in frozen]
    params = sum(group.params for group in description.groups if group.name in trainable)
    return {
        **costs,
        "frozen": frozen,
        "train_flops": train_flops(description.layer_costs, trainable),
        "trainable_params": params,
        "state_bytes": trainable_state_bytes(params, DESCRIBE_OPTIMIZER),
    }

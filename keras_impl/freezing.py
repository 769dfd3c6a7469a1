"""Named transfer-learning operations on a BuiltModel: freeze groups, unfreeze for fine-tuning."""

from __future__ import annotations

from typing import Any

from keras_impl.models.registry import HEAD_GROUP, BuiltModel
from suite.spec.models import FinetuneSpec, StrategySpec


def frozen_groups(strategy: StrategySpec, group_names: list[str]) -> list[str]:
    """Groups that ``strategy`` freezes at the start of training, in model order.

    ``freeze="none"`` -> none; ``"all_but_head"`` -> every group but ``"head"``; a list -> those groups;
    ``freeze_blocks=N`` -> the first N groups. Unknown names or N >= number of groups raise ValueError.
    """
    if strategy.freeze_blocks is not None:
        if strategy.freeze_blocks >= len(group_names):
            raise ValueError(
                f"freeze_blocks={strategy.freeze_blocks} would freeze every group; this model has "
                f"{len(group_names)} groups: {', '.join(group_names)}"
            )
        return group_names[: strategy.freeze_blocks]
    if strategy.freeze == "none":
        return []
    if strategy.freeze == "all_but_head":
        return [name for name in group_names if name != HEAD_GROUP]
    _require_known(strategy.freeze, group_names, "strategy.freeze")
    return [name for name in group_names if name in strategy.freeze]


def apply_freezing(built: BuiltModel, frozen: list[str]) -> None:
    """Make every layer trainable, then freeze the layers of the ``frozen`` groups.

    Keras runs a BatchNormalization layer whose ``trainable`` is False in inference mode.
    Recompile the model afterwards: Keras reads ``trainable`` when it compiles its train step.
    """
    if built.base is not None:
        built.base.trainable = True
    for name, layers in built.groups.items():
        for layer in layers:
            layer.trainable = name not in frozen


def unfreeze_for_finetune(built: BuiltModel, finetune: FinetuneSpec) -> list[str]:
    """Phase-2 unfreezing: ``"all"``, named groups, or the last N layers of the backbone.

    The last-N rule counts ``backbone_layers`` exactly as seed 003 counts ``base_model.layers[-N:]``
    (weightless layers such as ReLU or Add included). Returns the names of the layers made trainable.
    """
    if finetune.unfreeze_last_layers is not None:
        layers = built.backbone_layers[-finetune.unfreeze_last_layers :]
    elif finetune.unfreeze == "all":
        layers = [layer for members in built.groups.values() for layer in members]
    else:
        _require_known(finetune.unfreeze, built.group_names, "strategy.finetune.unfreeze")
        layers = [layer for name in finetune.unfreeze for layer in built.groups[name]]
    for layer in layers:
        layer.trainable = True
    return [layer.name for layer in layers]


def _require_known(names: list[str], group_names: list[str], key: str) -> None:
    unknown = [name for name in names if name not in group_names]
    if unknown:
        raise ValueError(f"{key}: unknown group(s) {', '.join(unknown)}; this model has: {', '.join(group_names)}")


def is_trainable(layer: Any) -> bool:
    """Whether ``layer`` currently has trainable weights."""
    return bool(layer.trainable and layer.trainable_weights)

"""Named transfer-learning operations on a BuiltModel: freeze groups, unfreeze for fine-tuning."""

from __future__ import annotations

from typing import Any

from keras_impl.models.registry import BuiltModel
from suite.groups import initially_frozen, unfreeze_targets
from suite.spec.models import FinetuneSpec, StrategySpec


def frozen_groups(strategy: StrategySpec, group_names: list[str]) -> list[str]:
    """Groups that ``strategy`` freezes at the start of training, in model order (see :mod:`suite.groups`)."""
    return initially_frozen(strategy, group_names)


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
        names = unfreeze_targets(finetune.unfreeze, built.group_names, "strategy.finetune.unfreeze")
        layers = [layer for name in names for layer in built.groups[name]]
    for layer in layers:
        layer.trainable = True
    return [layer.name for layer in layers]


def is_trainable(layer: Any) -> bool:
    """Whether ``layer`` currently has trainable weights."""
    return bool(layer.trainable and layer.trainable_weights)

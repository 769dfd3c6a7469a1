"""Named transfer-learning operations on a BuiltModel: which groups train, and BatchNorm settings.

Keras runs a BatchNormalization layer whose ``trainable`` is False in inference mode, so the BatchNorm
layers of frozen groups always use their moving statistics (the suite's ``bn_mode = "frozen"``); those of
training groups use batch statistics, as torch's ``train()`` does.
"""

from __future__ import annotations

from typing import Any

import keras

from keras_impl.models.registry import BuiltModel
from keras_impl.peft import apply_peft_trainable
from suite.plan.peft import PeftPlan
from suite.runners.protocol import TrainableSet


def apply_trainable(built: BuiltModel, trainable: TrainableSet, peft: PeftPlan | None = None) -> None:
    """Layers of ``trainable.groups`` train, every other group is frozen; then the plan's ``peft`` applies.

    Then the backbone's last ``trainable.last_layers`` layers train too (seed 003 counts
    ``base_model.layers[-N:]``, weightless layers included). Recompile afterwards: Keras reads
    ``trainable`` when it builds its train step.
    """
    chosen = set(trainable.groups)
    for name, layers in built.groups.items():
        for layer in layers:
            layer.trainable = name in chosen
    if trainable.last_layers:
        for layer in built.backbone_layers[-trainable.last_layers :]:
            layer.trainable = True
    apply_peft_trainable(built, peft)  # the plan's train_only / LoRA variables inside frozen groups


def configure_batchnorm(built: BuiltModel, momentum: float, epsilon: float) -> None:
    """Every BatchNorm layer uses ``momentum`` (torch's convention: weight of the new batch) and ``epsilon``.

    Keras' momentum is the weight of the running value, so it is set to ``1 - momentum``.
    """
    for layer in batchnorm_layers(built.model):
        layer.momentum, layer.epsilon = 1.0 - momentum, epsilon


def batchnorm_layers(model: Any) -> list[Any]:
    """Every BatchNormalization layer of ``model``, nested ones included."""
    return [layer for layer in model._flatten_layers() if isinstance(layer, keras.layers.BatchNormalization)]

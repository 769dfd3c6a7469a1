"""Parameter accounting with the suite's meaning (the torch runner's): learnable weights vs buffers.

``total = trainable + frozen`` counts learnable weights only; ``buffers`` counts non-learnable state
(BatchNorm moving_mean / moving_variance, Normalization mean / variance / count). Keras' own
``count_params()`` and its "Non-trainable params" lump frozen weights and moving statistics together:
for a frozen MobileNetV2 base at 32x32 Keras reports 2,257,984 non-trainable, which here is
``frozen`` 2,223,872 (the same number torchvision's ``mobilenet_v2().features`` has) + ``buffers`` 34,112.
"""

from __future__ import annotations

import math
from typing import Any

import keras

from keras_impl.models.registry import BuiltModel
from suite.runners.protocol import GroupFacts, ParamCounts


def count_params(built: BuiltModel) -> ParamCounts:
    """ParamCounts of ``built`` in its current frozen/trainable state, with per-group totals."""
    groups: dict[str, dict[str, int]] = {}
    buffers = 0
    for name, layers in built.groups.items():
        total = trainable = 0
        for layer in layers:
            learnable_ids = _learnable_variable_ids(layer)
            for variable in layer.weights:
                size = math.prod(variable.shape)
                if id(variable) not in learnable_ids:
                    buffers += size
                    continue
                total += size
                trainable += size if layer.trainable and variable.trainable else 0
        groups[name] = {"total": total, "trainable": trainable}
    total = sum(group["total"] for group in groups.values())
    trainable = sum(group["trainable"] for group in groups.values())
    return ParamCounts(total=total, trainable=trainable, frozen=total - trainable, buffers=buffers, groups=groups)


def _learnable_variable_ids(layer: Any) -> set[int]:
    """Ids of the variables ``layer`` would train if it were trainable (created with trainable=True).

    Read from each layer's own list of such variables rather than by flipping ``layer.trainable`` (which
    would reset per-variable flags: a LoRA base kernel, or the frozen variables of BitFit / norm-only).
    """
    return {id(variable) for leaf in layer._flatten_layers() for variable in leaf._trainable_variables}


def group_facts(built: BuiltModel) -> list[GroupFacts]:
    """Per group, input to output: learnable weights and whether it holds BatchNorm or Dropout layers."""
    counts = count_params(built).groups
    return [
        GroupFacts(
            name=name,
            params=counts[name]["total"],
            has_batchnorm=any(isinstance(layer, keras.layers.BatchNormalization) for layer in layers),
            has_dropout=any(isinstance(layer, keras.layers.Dropout) and layer.rate > 0 for layer in layers),
        )
        for name, layers in built.groups.items()
    ]

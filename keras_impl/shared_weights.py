"""The neutral weight layout (:mod:`suite.architectures.shared_init`) on a Keras model: slots, loading and export.

Slots follow the groups in order and, within a group, its layers in forward order: Dense -> ``dense_kernel``
(in, out) and ``bias``; Conv2D -> ``conv_kernel`` (kh, kw, in, out) and ``bias``; DepthwiseConv2D ->
``depthwise_kernel`` (kh, kw, in, 1) and ``bias``; BatchNormalization -> ``bn_gamma``, ``bn_beta``,
``bn_mean``, ``bn_var``. A slot is named ``{group}.{k}.{kind}``, ``k`` counting the group's weighted layers
from 0 (in ``built.weight_order`` when the model declares one:
torch's forward order). Keras' own layout is the neutral one (dense inputs flattened NHWC), so no array is converted.
A ``Normalization`` layer (preprocessing statistics inside keras.applications' EfficientNet, never trained) has no
slot, as in torch: it keeps its initial mean 0 and variance 1 unless a weights file sets them.
"""

from __future__ import annotations

import math
from typing import Any

import keras
import numpy as np

from keras_impl.models.registry import BuiltModel
from suite.runners.protocol import InitSlot


def _layer_slots(layer: Any, prefix: str) -> list[tuple[InitSlot, Any]]:
    """(slot, variable) pairs of one weighted layer (``prefix`` = ``group.k``), in slot order."""
    if isinstance(layer, keras.layers.BatchNormalization):
        pairs = [("bn_gamma", layer.gamma), ("bn_beta", layer.beta)]
        pairs += [("bn_mean", layer.moving_mean), ("bn_var", layer.moving_variance)]
        return [(InitSlot(f"{prefix}.{kind}", kind, tuple(v.shape)), v) for kind, v in pairs if v is not None]
    if isinstance(layer, keras.layers.DepthwiseConv2D):
        kind, kernel = "depthwise_kernel", layer.kernel
        fan_in = math.prod(kernel.shape[:2])
    elif isinstance(layer, keras.layers.Conv2D):
        kind, kernel = "conv_kernel", layer.kernel
        fan_in = math.prod(kernel.shape[:3])
    elif isinstance(layer, keras.layers.Dense):
        kind, kernel = "dense_kernel", layer.kernel
        fan_in = kernel.shape[0]
    else:
        raise ValueError(f"layer {layer.name!r} ({type(layer).__name__}) has no neutral layout")
    pairs = [(InitSlot(f"{prefix}.{kind}", kind, tuple(kernel.shape), fan_in), kernel)]
    if layer.bias is not None:
        pairs.append((InitSlot(f"{prefix}.bias", "bias", tuple(layer.bias.shape), fan_in), layer.bias))
    return pairs


def slot_variables(built: BuiltModel) -> list[tuple[InitSlot, Any]]:
    """Every learnable array of ``built`` as (slot, Keras variable), in the neutral order."""
    pairs: list[tuple[InitSlot, Any]] = []
    rank = {name: index for index, name in enumerate(built.weight_order)}
    for group, layers in built.groups.items():
        weighted = sorted(
            (layer for layer in layers if layer.weights and not isinstance(layer, keras.layers.Normalization)),
            key=lambda layer: rank.get(layer.name, -1),
        )
        for index, layer in enumerate(weighted):
            pairs += _layer_slots(layer, f"{group}.{index}")
    return pairs


def init_slots(built: BuiltModel) -> list[InitSlot]:
    """The neutral layout of ``built``."""
    return [slot for slot, _ in slot_variables(built)]


def load_weights(built: BuiltModel, arrays: list[np.ndarray]) -> None:
    """Assign ``arrays`` (one per slot, in slot order) to the model's variables; shapes must match exactly."""
    pairs = slot_variables(built)
    if len(arrays) != len(pairs):
        raise ValueError(f"expected {len(pairs)} initial arrays (one per init slot), got {len(arrays)}")
    for (slot, variable), array in zip(pairs, arrays, strict=True):
        if tuple(np.shape(array)) != slot.shape:
            raise ValueError(f"init slot {slot.name}: expected shape {slot.shape}, got {tuple(np.shape(array))}")
        variable.assign(np.asarray(array, dtype=variable.dtype))


def export_weights(built: BuiltModel) -> list[np.ndarray]:
    """The model's learnable arrays (and BatchNorm statistics) in the neutral layout, as float32 numpy."""
    return [np.asarray(keras.ops.convert_to_numpy(v), dtype=np.float32) for _, v in slot_variables(built)]

"""Costs the core's :mod:`suite.efficiency` reads from a Keras model: per-layer FLOPs and the allocator's peak.

Keras has no counter that works on every engine, so multiply-accumulates follow the analytic per-layer rule,
from each layer's kernel and output shapes (the same count ``torch.utils.flop_counter`` makes in
:mod:`torch_impl.efficiency`): ``Conv2D`` ``H_out * W_out * k_h * k_w * C_in / groups * C_out``,
``DepthwiseConv2D`` ``H_out * W_out * k_h * k_w * C_in * multiplier``, ``Dense`` ``positions * in * out``;
normalisation layers cost 0 (element-wise). Nested models (a keras.applications base) are walked layer by layer.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import keras

from keras_impl import environment
from keras_impl.models import BuiltModel
from suite.runners.protocol import LayerCost

NORM_TYPES = (keras.layers.BatchNormalization, keras.layers.LayerNormalization, keras.layers.GroupNormalization)


def layer_costs(built: BuiltModel) -> list[LayerCost]:
    """Convolution, dense and normalisation layers of ``built`` in definition order, with MACs per image."""
    costs = []
    for group, layers in built.groups.items():
        for layer in _leaves(layers):
            cost = _cost(layer, group)
            if cost is not None:
                costs.append(cost)
    return costs


def _leaves(layers: list[Any]) -> Iterator[Any]:
    for layer in layers:
        nested = getattr(layer, "layers", None)
        if isinstance(layer, keras.Model) and nested:
            yield from _leaves(nested)
        else:
            yield layer


def _cost(layer: Any, group: str) -> LayerCost | None:
    if isinstance(layer, keras.layers.DepthwiseConv2D):
        kernel_h, kernel_w, channels, multiplier = layer.kernel.shape
        macs = _positions(layer) * kernel_h * kernel_w * channels * multiplier
        return LayerCost(layer.name, group, "depthwise", macs, kernel_h * kernel_w, multiplier, layer.use_bias)
    if isinstance(layer, keras.layers.Conv2D):
        kernel_h, kernel_w, per_group, filters = layer.kernel.shape
        fan_in = kernel_h * kernel_w * per_group
        macs = _positions(layer) * fan_in * filters
        return LayerCost(layer.name, group, "conv", macs, fan_in, filters, layer.use_bias)
    if isinstance(layer, keras.layers.Dense):
        fan_in, units = layer.kernel.shape
        return LayerCost(layer.name, group, "dense", _positions(layer) * fan_in * units, fan_in, units, layer.use_bias)
    if isinstance(layer, NORM_TYPES):
        return LayerCost(layer.name, group, "norm", 0, has_bias=True)
    return None


def _positions(layer: Any) -> int:
    """Output positions per image: every output dimension but the batch and the channels."""
    return math.prod(int(size) for size in layer.output.shape[1:-1])


def reset_peak_memory() -> bool:
    """Reset the engine's accelerator peak; False on the CPU (the core reads the resident set there)."""
    device = _accelerator()
    if device is None:
        return False
    name = environment.engine_name()
    if name == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.reset_memory_stats(device)
    elif name == "torch":
        import torch

        torch.cuda.reset_peak_memory_stats()
    return True


def peak_memory_bytes() -> int | None:
    """The accelerator allocator's peak since :func:`reset_peak_memory` (JAX: since the process started)."""
    device = _accelerator()
    if device is None:
        return None
    environment.synchronize()
    name = environment.engine_name()
    if name == "tensorflow":
        import tensorflow as tf

        return int(tf.config.experimental.get_memory_info(device)["peak"])
    if name == "torch":
        import torch

        return int(torch.cuda.max_memory_allocated())
    import jax

    return int(jax.devices()[0].memory_stats()["peak_bytes_in_use"])


def _accelerator() -> str | None:
    """``"GPU:0"`` when the engine trains on a GPU, else None."""
    return "GPU:0" if environment.gpu_names() else None

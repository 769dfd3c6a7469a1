"""The neutral weight layout (:mod:`suite.architectures.shared_init`) and torch's own: slots, loading and export.

Slots follow the forward pass, group by group, layer by layer (found by running the model once with hooks):
Linear -> ``dense_kernel`` (in, out) and ``bias``; Conv2d -> ``conv_kernel`` (kh, kw, in, out), or
``depthwise_kernel`` (kh, kw, in, 1) when each channel has its own filter, and ``bias``; BatchNorm ->
``bn_gamma``, ``bn_beta``, ``bn_mean``, ``bn_var``. A slot is named ``{group}.{k}.{kind}`` with ``k``
counting the weighted layers of the group from 0. A Linear fed by the Flatten of a (C, H, W) map takes
NHWC-ordered rows in the neutral layout (Keras flattens NHWC, torch NCHW), so its rows are permuted here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from suite.runners.protocol import InitSlot
from torch_impl.models import BuiltModel, InputShape
from torch_impl.models.groups import is_batchnorm

Convert = Callable[[np.ndarray], np.ndarray]
_BN_TENSORS = (("bn_gamma", "weight"), ("bn_beta", "bias"), ("bn_mean", "running_mean"), ("bn_var", "running_var"))


@dataclass(frozen=True)
class SlotBinding:
    """One neutral slot bound to a module attribute, with the conversions between the two layouts.

    The attribute is looked up at use time: moving a module to a device replaces its buffers.
    """

    slot: InitSlot
    module: nn.Module
    attribute: str
    to_torch: Convert
    to_neutral: Convert

    def tensor(self) -> torch.Tensor:
        """The torch tensor this slot fills."""
        return getattr(self.module, self.attribute)


def _same(array: np.ndarray) -> np.ndarray:
    return array


def _transpose(array: np.ndarray) -> np.ndarray:
    return array.T


def _conv_to_torch(kernel: np.ndarray) -> np.ndarray:
    return kernel.transpose(3, 2, 0, 1)  # (kh, kw, in, out) -> (out, in, kh, kw)


def _conv_to_neutral(weight: np.ndarray) -> np.ndarray:
    return weight.transpose(2, 3, 1, 0)


def _depthwise(array: np.ndarray) -> np.ndarray:
    return array.transpose(2, 3, 0, 1)  # (kh, kw, in, 1) <-> (in, 1, kh, kw): the same swap both ways


def _flattened_dense(shape: tuple[int, int, int]) -> tuple[Convert, Convert]:
    """Conversions for a dense kernel whose input is a flattened (C, H, W) map."""
    channels, height, width = shape

    def to_torch(kernel: np.ndarray) -> np.ndarray:
        rows = kernel.reshape(height, width, channels, -1).transpose(2, 0, 1, 3)
        return rows.reshape(channels * height * width, -1).T

    def to_neutral(weight: np.ndarray) -> np.ndarray:
        rows = weight.T.reshape(channels, height, width, -1).transpose(1, 2, 0, 3)
        return rows.reshape(channels * height * width, -1)

    return to_torch, to_neutral


def _forward_order(built: BuiltModel, input_shape: InputShape) -> list[tuple[nn.Module, tuple[int, ...]]]:
    """Leaf layers that matter for the layout, in the order one forward pass runs them, with input shapes."""
    seen: list[tuple[nn.Module, tuple[int, ...]]] = []
    kinds = (nn.Linear, nn.Conv2d, nn.Flatten, nn.modules.batchnorm._BatchNorm)

    def record(module: nn.Module, args: tuple) -> None:
        if all(module is not done for done, _ in seen):
            seen.append((module, tuple(args[0].shape)))

    handles = [m.register_forward_pre_hook(record) for m in built.module.modules() if isinstance(m, kinds)]
    was_training = built.module.training
    height, width, channels = input_shape
    parameter = next(built.module.parameters())
    try:
        built.module.eval()
        with torch.no_grad():
            built.module(torch.zeros(1, channels, height, width, device=parameter.device))
    finally:
        built.module.train(was_training)
        for handle in handles:
            handle.remove()
    return seen


def _layer_bindings(layer: nn.Module, prefix: str, flattened: tuple[int, int, int] | None) -> list[SlotBinding]:
    """The slots of one weighted layer (``prefix`` = ``group.k``)."""
    if is_batchnorm(layer):
        return [
            SlotBinding(InitSlot(f"{prefix}.{kind}", kind, (layer.num_features,)), layer, attribute, _same, _same)
            for kind, attribute in _BN_TENSORS
        ]
    if isinstance(layer, nn.Linear):
        fan_in = layer.in_features
        convert = _flattened_dense(flattened) if flattened else (_transpose, _transpose)
        kernel = InitSlot(f"{prefix}.dense_kernel", "dense_kernel", (layer.in_features, layer.out_features), fan_in)
        bindings = [SlotBinding(kernel, layer, "weight", *convert)]
    else:
        out_channels, per_group, kh, kw = layer.weight.shape
        fan_in = per_group * kh * kw
        if layer.groups == 1:
            kernel = InitSlot(f"{prefix}.conv_kernel", "conv_kernel", (kh, kw, per_group, out_channels), fan_in)
            bindings = [SlotBinding(kernel, layer, "weight", _conv_to_torch, _conv_to_neutral)]
        elif layer.groups == layer.in_channels == out_channels:
            kernel = InitSlot(f"{prefix}.depthwise_kernel", "depthwise_kernel", (kh, kw, out_channels, 1), fan_in)
            bindings = [SlotBinding(kernel, layer, "weight", _depthwise, _depthwise)]
        else:
            raise ValueError(f"{prefix}: grouped convolution with {layer.groups} groups has no neutral layout")
    if layer.bias is not None:
        bias = InitSlot(f"{prefix}.bias", "bias", tuple(layer.bias.shape), fan_in)
        bindings.append(SlotBinding(bias, layer, "bias", _same, _same))
    return bindings


def slot_bindings(built: BuiltModel, input_shape: InputShape) -> list[SlotBinding]:
    """Every learnable array of ``built`` as a neutral slot, in forward order group by group."""
    owner = {id(layer): name for name, modules in built.groups.items() for m in modules for layer in m.modules()}
    order = list(built.groups)
    per_group: dict[str, list[SlotBinding]] = {name: [] for name in order}
    counters = dict.fromkeys(order, 0)
    flattened: tuple[int, int, int] | None = None
    for layer, shape in _forward_order(built, input_shape):
        if isinstance(layer, nn.Flatten):
            flattened = tuple(shape[1:]) if len(shape) == 4 else None
            continue
        group = owner[id(layer)]
        per_group[group] += _layer_bindings(layer, f"{group}.{counters[group]}", flattened)
        counters[group] += 1
        flattened = None
    return [binding for name in order for binding in per_group[name]]


def init_slots(built: BuiltModel, input_shape: InputShape) -> list[InitSlot]:
    """The neutral layout of ``built`` (what :func:`suite.architectures.shared_init.draw_initial_weights` fills)."""
    return [binding.slot for binding in slot_bindings(built, input_shape)]


@torch.no_grad()
def load_weights(bindings: list[SlotBinding], arrays: list[np.ndarray]) -> None:
    """Copy ``arrays`` (neutral layout, in slot order) into the model's parameters and buffers."""
    if len(arrays) != len(bindings):
        raise ValueError(f"initial weights: expected {len(bindings)} arrays, got {len(arrays)}")
    for binding, array in zip(bindings, arrays, strict=True):
        if tuple(array.shape) != binding.slot.shape:
            raise ValueError(f"initial weight {binding.slot.name}: shape {array.shape}, expected {binding.slot.shape}")
        target = binding.tensor()
        source = torch.from_numpy(np.ascontiguousarray(binding.to_torch(np.asarray(array, dtype=np.float32))))
        target.copy_(source.to(device=target.device, dtype=target.dtype))


def export_weights(bindings: list[SlotBinding]) -> list[np.ndarray]:
    """The model's learnable arrays in the neutral layout, in slot order (float32)."""
    arrays = []
    for binding in bindings:
        weight = binding.tensor().detach().float().cpu().numpy()
        arrays.append(np.ascontiguousarray(binding.to_neutral(weight), dtype=np.float32))
    return arrays

"""Costs the core's :mod:`suite.efficiency` reads from a torch model: per-layer FLOPs and the allocator's peak.

Per-layer multiply-accumulates come from a real counter, ``torch.utils.flop_counter.FlopCounterMode`` over one
forward pass of one image (2 FLOPs per MAC, convolutions and matrix products only; its per-module counts are
halved into MACs). The Keras runner's :mod:`keras_impl.efficiency` computes the same numbers from layer shapes.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from suite.runners.protocol import LayerCost
from torch_impl.models.registry import BuiltModel, InputShape

NORM_TYPES = (nn.modules.batchnorm._BatchNorm, nn.LayerNorm, nn.GroupNorm)


def layer_costs(built: BuiltModel, input_shape: InputShape) -> list[LayerCost]:
    """Convolution, linear and normalisation layers of ``built`` in definition order, with MACs per image."""
    counted = _module_flops(built.module, input_shape)
    root = type(built.module).__name__
    names = {id(module): name for name, module in built.module.named_modules()}
    costs = []
    for group, modules in built.groups.items():
        for top in modules:
            for module in top.modules():
                cost = _cost(module, group, names.get(id(module), ""), counted, root)
                if cost is not None:
                    costs.append(cost)
    return costs


def _module_flops(module: nn.Module, input_shape: InputShape) -> dict[str, int]:
    """FLOPs per module path (``Root.path``) for one image, counted by ``FlopCounterMode``."""
    height, width, channels = input_shape
    parameter = next(module.parameters())
    image = torch.zeros(1, channels, height, width, dtype=parameter.dtype, device=parameter.device)
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            module(image)
    finally:
        module.train(was_training)
    return {name: int(sum(ops.values())) for name, ops in counter.get_flop_counts().items()}


def _cost(module: nn.Module, group: str, name: str, counted: dict[str, int], root: str) -> LayerCost | None:
    macs = counted.get(f"{root}.{name}", 0) // 2
    if isinstance(module, nn.Conv2d):
        depthwise = module.groups > 1
        kernel = module.kernel_size[0] * module.kernel_size[1]
        fan_in = module.in_channels // module.groups * kernel
        has_bias = module.bias is not None
        return LayerCost(name, group, "depthwise" if depthwise else "conv", macs, fan_in, module.out_channels, has_bias)
    if isinstance(module, nn.Linear):
        has_bias = module.bias is not None
        return LayerCost(name, group, "dense", macs, module.in_features, module.out_features, has_bias)
    if isinstance(module, NORM_TYPES):
        return LayerCost(name, group, "norm", 0, has_bias=True)
    return None


def reset_peak_memory(device: torch.device) -> bool:
    """Reset the CUDA allocator's peak; False on the CPU (the core reads the resident set there)."""
    if device.type != "cuda":
        return False
    torch.cuda.synchronize(device)
    torch.cuda.reset_peak_memory_stats(device)
    return True


def peak_memory_bytes(device: torch.device) -> int | None:
    """``torch.cuda.max_memory_allocated`` since :func:`reset_peak_memory`; None on the CPU."""
    if device.type != "cuda":
        return None
    torch.cuda.synchronize(device)
    return int(torch.cuda.max_memory_allocated(device))

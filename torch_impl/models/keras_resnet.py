"""The torch twin of keras.applications' ResNet50 / 101 / 152 (v1), module for module under Keras' layer names."""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn
from torch.nn import functional

from suite.architectures.catalog import Architecture
from suite.architectures.convert_keras_resnet import EXPANSION, STAGE_FILTERS, STAGE_STRIDES
from suite.spec.models import ModelSpec
from torch_impl.models.batchnorm import KerasBatchNorm2d
from torch_impl.models.keras_layout import register_twin

# Written by hand: timm's and torchvision's ResNets are v1.5 (stride on the 3x3 conv) without conv biases.


class KerasResidualBlock(nn.Module):
    """``conv{s}_block{b}``: 1x1 (stride here: v1) -> 3x3 -> 1x1, convs with bias; projection shortcut in block 1."""

    def __init__(self, name: str, in_channels: int, filters: int, stride: int, shortcut: bool) -> None:
        super().__init__()
        self.name = name
        out = EXPANSION * filters
        convs = {"1": (in_channels, filters, 1, stride), "2": (filters, filters, 3, 1), "3": (filters, out, 1, 1)}
        if shortcut:
            convs["0"] = (in_channels, out, 1, stride)
        for n, (cin, cout, kernel, step) in convs.items():
            self.add_module(f"{name}_{n}_conv", nn.Conv2d(cin, cout, kernel, step, padding=kernel // 2))
            self.add_module(f"{name}_{n}_bn", KerasBatchNorm2d(cout))
        self.shortcut = shortcut

    def _layer(self, n: str, suffix: str) -> nn.Module:
        return getattr(self, f"{self.name}_{n}_{suffix}")

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:  # noqa: D102 - Keras' topological order of the layers
        x = inputs
        for n in ("1", "2"):
            x = functional.relu(self._layer(n, "bn")(self._layer(n, "conv")(x)))
        if not self.shortcut:
            return functional.relu(inputs + self._layer("3", "bn")(self._layer("3", "conv")(x)))
        projected, x = self._layer("0", "conv")(inputs), self._layer("3", "conv")(x)
        return functional.relu(self._layer("0", "bn")(projected) + self._layer("3", "bn")(x))


def _stem() -> nn.Sequential:
    return nn.Sequential(
        OrderedDict(
            conv1_pad=nn.ZeroPad2d(3),
            conv1_conv=nn.Conv2d(3, 64, 7, 2),
            conv1_bn=KerasBatchNorm2d(64),
            conv1_relu=nn.ReLU(),
            pool1_pad=nn.ZeroPad2d(1),
            pool1_pool=nn.MaxPool2d(3, 2),
        )
    )


@register_twin("keras_resnet")
def resnet_twin(arch: Architecture, spec: ModelSpec) -> OrderedDict[str, nn.Module]:
    """``stem``, ``conv2`` .. ``conv5`` of keras.applications' ResNet v1 with ``arch.options["blocks"]``."""
    body: OrderedDict[str, nn.Module] = OrderedDict(stem=_stem())
    channels = 64
    for stage, (count, filters, stride) in enumerate(
        zip(arch.options["blocks"], STAGE_FILTERS, STAGE_STRIDES, strict=True)
    ):
        name = f"conv{stage + 2}"
        blocks = []
        for index in range(1, count + 1):
            first = index == 1
            blocks.append(KerasResidualBlock(f"{name}_block{index}", channels, filters, stride if first else 1, first))
            channels = EXPANSION * filters
        body[name] = nn.Sequential(*blocks)
    return body

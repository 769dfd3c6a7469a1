"""keras.applications' MobileNetV2 (alpha 1.0): the Keras base's layers, as the converter and twins use them.

Keras names the stem ``Conv1`` / ``bn_Conv1`` / ``Conv1_relu``, the first (t = 1) block ``expanded_conv_*``, block
``k`` = 1..16 ``block_{k}_*`` (``expand`` / ``expand_BN`` / ``expand_relu``, ``pad`` before a stride-2 depthwise,
``depthwise`` / ``depthwise_BN`` / ``depthwise_relu``, ``project`` / ``project_BN``, ``add`` for a residual) and
the last 1x1 convolution ``Conv_1`` / ``Conv_1_bn`` / ``out_relu``. No convolution has a bias; BatchNorm's
epsilon is 1e-3 and its momentum 0.999 (0.001 in torch's convention). Groups: torchvision's vocabulary, as the Keras
runner's MobileNetV2 has always named them (and with torchvision's ``mobilenet_v2`` counts): ``features.0`` the stem,
``features.{k + 1}`` block ``k``, ``features.18`` the last convolution.
"""

from __future__ import annotations

from suite.architectures.catalog import Architecture
from suite.architectures.keras_layout import WEIGHTLESS, KerasLayer

BLOCKS = ((16, 1, 1), (24, 2, 2), (32, 3, 2), (64, 4, 2), (96, 3, 1), (160, 3, 2), (320, 1, 1))
"""(output channels, blocks, stride of the first block) per stage, as keras.applications builds them."""


def _block(index: int, stride: int, residual: bool) -> list[KerasLayer]:
    group = f"features.{index + 1}"
    prefix = f"block_{index}_" if index else "expanded_conv_"
    layers = []
    if index:
        layers += [KerasLayer(f"{prefix}expand", "conv", group), KerasLayer(f"{prefix}expand_BN", "bn", group)]
        layers.append(KerasLayer(f"{prefix}expand_relu", WEIGHTLESS, group))
    if stride == 2:
        layers.append(KerasLayer(f"{prefix}pad", WEIGHTLESS, group))
    layers += [
        KerasLayer(f"{prefix}depthwise", "depthwise", group),
        KerasLayer(f"{prefix}depthwise_BN", "bn", group),
        KerasLayer(f"{prefix}depthwise_relu", WEIGHTLESS, group),
        KerasLayer(f"{prefix}project", "conv", group),
        KerasLayer(f"{prefix}project_BN", "bn", group),
    ]
    return layers + ([KerasLayer(f"{prefix}add", WEIGHTLESS, group)] if residual else [])


def keras_layers(arch: Architecture) -> list[KerasLayer]:
    """``keras.applications.MobileNetV2(include_top=False).layers`` (input left out), with kinds and groups."""
    layers = [
        KerasLayer("Conv1", "conv", "features.0"),
        KerasLayer("bn_Conv1", "bn", "features.0"),
        KerasLayer("Conv1_relu", WEIGHTLESS, "features.0"),
    ]
    index, channels = 0, 32
    for filters, count, stride in BLOCKS:
        for repeat in range(count):
            step = stride if repeat == 0 else 1
            layers += _block(index, step, step == 1 and channels == filters)
            index, channels = index + 1, filters
    return [
        *layers,
        KerasLayer("Conv_1", "conv", "features.18"),
        KerasLayer("Conv_1_bn", "bn", "features.18"),
        KerasLayer("out_relu", WEIGHTLESS, "features.18"),
    ]

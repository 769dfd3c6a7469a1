"""keras.applications' EfficientNetB0 / B3: the Keras base's layers, as the converter and twins use them.

The base starts with its own preprocessing: ``rescaling`` (1 / 255), ``normalization`` (per-channel mean, variance
and count: 7 numbers, loaded with the weights, none trained) and, as keras.applications builds it for ImageNet
weights, ``rescaling_1`` (1 / sqrt of ImageNet's standard deviation, which completes the published weights'
normalisation); then ``stem_conv_pad`` / ``stem_conv`` / ``stem_bn`` / ``stem_activation``. Block ``{stage}{letter}``
is ``expand_conv`` / ``expand_bn`` / ``expand_activation`` (not in stage 1, expansion 1), ``dwconv_pad`` before a
stride-2 depthwise, ``dwconv`` / ``bn`` / ``activation``, the squeeze-excite ``se_squeeze`` / ``se_reshape`` /
``se_reduce`` (swish) / ``se_expand`` (sigmoid) / ``se_excite`` (both convolutions with bias, the reduction a quarter
of the block's input channels), ``project_conv`` / ``project_bn`` and, for a residual, the stochastic-depth
``drop`` and ``add``; ``top_conv`` / ``top_bn`` / ``top_activation`` end the no-top base. Activation: swish;
BatchNorm: epsilon 1e-3, momentum 0.99 (0.01 in torch's convention). Groups: ``stem``, ``block1`` .. ``block7``,
``top``, as the Keras runner has always named them.
"""

from __future__ import annotations

import math

from suite.architectures.catalog import Architecture
from suite.architectures.keras_layout import WEIGHTLESS, KerasLayer

STAGES = ((3, 1, 16, 1, 1), (3, 2, 24, 6, 2), (5, 2, 40, 6, 2), (3, 3, 80, 6, 2), (5, 3, 112, 6, 1), (5, 4, 192, 6, 2),
          (3, 1, 320, 6, 1))  # fmt: skip
"""(kernel, repeats, output channels, expansion, stride of the first block) per stage: Keras' DEFAULT_BLOCKS_ARGS."""
NORMALIZATION = ("mean", "variance", "count")
"""The Normalization layer's arrays in Keras' order; the torch twin's buffers carry the same names."""


def repeats(arch: Architecture, stage: int) -> int:
    """Blocks in ``stage`` (0-based) of ``arch``: Keras' ``ceil(depth_coefficient * repeats)``."""
    return int(math.ceil(arch.options["depth_coefficient"] * STAGES[stage][1]))


def _block(name: str, group: str, expand: bool, stride: int, residual: bool) -> list[KerasLayer]:
    layers = []
    if expand:
        layers += [
            KerasLayer(f"{name}expand_conv", "conv", group),
            KerasLayer(f"{name}expand_bn", "bn", group),
            KerasLayer(f"{name}expand_activation", WEIGHTLESS, group),
        ]
    if stride == 2:
        layers.append(KerasLayer(f"{name}dwconv_pad", WEIGHTLESS, group))
    layers += [
        KerasLayer(f"{name}dwconv", "depthwise", group),
        KerasLayer(f"{name}bn", "bn", group),
        KerasLayer(f"{name}activation", WEIGHTLESS, group),
        *(KerasLayer(f"{name}se_{part}", WEIGHTLESS, group) for part in ("squeeze", "reshape")),
        KerasLayer(f"{name}se_reduce", "conv_bias", group),
        KerasLayer(f"{name}se_expand", "conv_bias", group),
        KerasLayer(f"{name}se_excite", WEIGHTLESS, group),
        KerasLayer(f"{name}project_conv", "conv", group),
        KerasLayer(f"{name}project_bn", "bn", group),
    ]
    return layers + ([KerasLayer(f"{name}drop", WEIGHTLESS, group), KerasLayer(f"{name}add", WEIGHTLESS, group)]
                     if residual else [])  # fmt: skip


def keras_layers(arch: Architecture) -> list[KerasLayer]:
    """``keras.applications.EfficientNetB<n>(include_top=False, weights="imagenet").layers`` (input left out)."""
    layers = [
        KerasLayer("rescaling", WEIGHTLESS, "stem"),
        KerasLayer("normalization", "plain", "stem", keras_class="normalization", suffixes=NORMALIZATION),
        KerasLayer("rescaling_1", WEIGHTLESS, "stem"),
        KerasLayer("stem_conv_pad", WEIGHTLESS, "stem"),
        KerasLayer("stem_conv", "conv", "stem"),
        KerasLayer("stem_bn", "bn", "stem"),
        KerasLayer("stem_activation", WEIGHTLESS, "stem"),
    ]
    for stage, (_, _, _, expansion, stride) in enumerate(STAGES):
        for index in range(repeats(arch, stage)):
            name = f"block{stage + 1}{chr(index + 97)}_"
            layers += _block(name, f"block{stage + 1}", expansion != 1, stride if index == 0 else 1, index > 0)
    return [
        *layers,
        KerasLayer("top_conv", "conv", "top"),
        KerasLayer("top_bn", "bn", "top"),
        KerasLayer("top_activation", WEIGHTLESS, "top"),
    ]

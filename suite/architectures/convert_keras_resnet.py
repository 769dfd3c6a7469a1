"""keras.applications' ResNet v1 (ResNet50 / 101 / 152): the Keras base's layers, as the converter and twins use them.

The layer names are Keras' (``conv1_conv``, ``conv{s}_block{b}_{n}_conv`` / ``_bn`` / ``_relu``, ``_add``, ``_out``;
``n = 0`` is the projection shortcut of a stage's first block). Every convolution has a bias, the stride of a
stage's first block sits on its first 1x1 convolution (v1, not torchvision's v1.5) and BatchNorm's epsilon is
1.001e-5. Groups: ``stem`` (``conv1_*``, ``pool1_*``) and one per stage, ``conv2`` .. ``conv5``.
"""

from __future__ import annotations

from suite.architectures.catalog import Architecture
from suite.architectures.keras_layout import WEIGHTLESS, KerasLayer

STAGE_STRIDES = (1, 2, 2, 2)
STAGE_FILTERS = (64, 128, 256, 512)
EXPANSION = 4


def _block(stage: str, index: int) -> list[KerasLayer]:
    """Keras' topological order: 1 and 2 (conv, bn, relu), then the shortcut's conv before 3's, each before its bn."""
    name = f"{stage}_block{index}"
    layers = []
    for n in (1, 2):
        layers += [KerasLayer(f"{name}_{n}_conv", "conv_bias", stage), KerasLayer(f"{name}_{n}_bn", "bn", stage)]
        layers.append(KerasLayer(f"{name}_{n}_relu", WEIGHTLESS, stage))
    last = ("0", "3") if index == 1 else ("3",)
    layers += [KerasLayer(f"{name}_{n}_conv", "conv_bias", stage) for n in last]
    layers += [KerasLayer(f"{name}_{n}_bn", "bn", stage) for n in last]
    return [*layers, KerasLayer(f"{name}_add", WEIGHTLESS, stage), KerasLayer(f"{name}_out", WEIGHTLESS, stage)]


def keras_layers(arch: Architecture) -> list[KerasLayer]:
    """``keras.applications.ResNet<depth>(include_top=False).layers`` (input left out), with kinds and groups."""
    stem = [
        KerasLayer("conv1_pad", WEIGHTLESS, "stem"),
        KerasLayer("conv1_conv", "conv_bias", "stem"),
        KerasLayer("conv1_bn", "bn", "stem"),
        KerasLayer("conv1_relu", WEIGHTLESS, "stem"),
        KerasLayer("pool1_pad", WEIGHTLESS, "stem"),
        KerasLayer("pool1_pool", WEIGHTLESS, "stem"),
    ]
    layers = stem
    for stage, count in enumerate(arch.options["blocks"]):
        for index in range(1, count + 1):
            layers += _block(f"conv{stage + 2}", index)
    return layers

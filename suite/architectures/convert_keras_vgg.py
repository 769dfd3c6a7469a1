"""keras.applications' VGG16 / VGG19: the Keras base's layers, as the converter and twins use them.

``block{b}_conv{i}`` is a 3x3 'same' convolution with bias and ReLU in one layer (torchvision's ``Conv2d`` +
``ReLU`` in ``vgg16().features``), ``block{b}_pool`` a 2x2 max pooling; one group per block.
"""

from __future__ import annotations

from suite.architectures.catalog import Architecture
from suite.architectures.keras_layout import WEIGHTLESS, KerasLayer

BLOCK_FILTERS = (64, 128, 256, 512, 512)


def keras_layers(arch: Architecture) -> list[KerasLayer]:
    """``keras.applications.VGG<depth>(include_top=False).layers`` (input left out), with kinds and groups."""
    layers: list[KerasLayer] = []
    for block, convs in enumerate(arch.options["convs"], start=1):
        group = f"block{block}"
        layers += [KerasLayer(f"{group}_conv{index}", "conv_bias", group) for index in range(1, convs + 1)]
        layers.append(KerasLayer(f"{group}_pool", WEIGHTLESS, group))
    return layers

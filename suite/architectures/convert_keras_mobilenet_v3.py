"""keras.applications' MobileNetV3Large (alpha 1.0): the Keras base's layers, as the converter and twins use them.

The base starts with its own preprocessing, ``Rescaling(1 / 127.5, offset=-1)`` (``include_preprocessing``), then the
stem ``conv`` / ``conv_bn`` and hard-swish; block 0 is ``expanded_conv_*``, block ``k`` = 1..14
``expanded_conv_{k}_*`` (``expand`` / ``expand_bn``, ``depthwise_pad`` before a stride-2 depthwise, ``depthwise`` /
``depthwise_bn``, the squeeze-excite ``squeeze_excite_avg_pool`` / ``_conv`` / ``_relu`` / ``_conv_1`` (both
convolutions with bias, the reduction ``_depth(expanded / 4)``) / hard-sigmoid / ``_mul``, ``project`` /
``project_bn``, ``add`` for a residual); the last 1x1 convolution ``conv_1`` / ``conv_1_bn`` and hard-swish end the
no-top base (the 960 -> 1280 ``conv_2`` is Keras' top). Keras names the activations itself (``re_lu_{n}``,
``activation_{n}``, counted as a fresh session counts them: the names of seed 003's base); the arithmetic of its
hard-sigmoid (``x + 3``, ``* 1/6``) is no layer. BatchNorm: epsilon 1e-3, momentum 0.999 (0.001 in torch's
convention). Groups: ``stem``, ``block_0`` .. ``block_14``, ``top``, as the Keras runner has always named them.
"""

from __future__ import annotations

from suite.architectures.catalog import Architecture
from suite.architectures.keras_layout import WEIGHTLESS, KerasLayer

BLOCKS = (
    (1, 16, 3, 1, False, "relu"),
    (4, 24, 3, 2, False, "relu"),
    (3, 24, 3, 1, False, "relu"),
    (3, 40, 5, 2, True, "relu"),
    (3, 40, 5, 1, True, "relu"),
    (3, 40, 5, 1, True, "relu"),
    (6, 80, 3, 2, False, "hard_swish"),
    (2.5, 80, 3, 1, False, "hard_swish"),
    (2.3, 80, 3, 1, False, "hard_swish"),
    (2.3, 80, 3, 1, False, "hard_swish"),
    (6, 112, 3, 1, True, "hard_swish"),
    (6, 112, 3, 1, True, "hard_swish"),
    (6, 160, 5, 2, True, "hard_swish"),
    (6, 160, 5, 1, True, "hard_swish"),
    (6, 160, 5, 1, True, "hard_swish"),
)
"""(expansion, output channels, kernel, stride, squeeze-excite, activation) per block, as keras.applications'
``MobileNetV3Large`` stack builds them."""
STEM_CHANNELS = 16
_AUTO = {"relu": "re_lu", "hard_swish": "activation"}  # the layer Keras makes for each activation, auto-named


class _Names:
    """Keras' automatic layer names, counted per prefix from a fresh session: ``re_lu``, ``re_lu_1``, ..."""

    def __init__(self) -> None:
        self.used: dict[str, int] = {}

    def __call__(self, activation: str) -> str:
        prefix = _AUTO[activation]
        count = self.used[prefix] = self.used.get(prefix, -1) + 1
        return f"{prefix}_{count}" if count else prefix


def _block(index: int, config: tuple, in_channels: int, names: _Names) -> list[KerasLayer]:
    _, filters, _, stride, excite, activation = config
    group, prefix = f"block_{index}", f"expanded_conv_{index}_" if index else "expanded_conv_"
    layers = []
    if index:
        layers += [KerasLayer(f"{prefix}expand", "conv", group), KerasLayer(f"{prefix}expand_bn", "bn", group)]
        layers.append(KerasLayer(names(activation), WEIGHTLESS, group))
    if stride == 2:
        layers.append(KerasLayer(f"{prefix}depthwise_pad", WEIGHTLESS, group))
    layers += [KerasLayer(f"{prefix}depthwise", "depthwise", group), KerasLayer(f"{prefix}depthwise_bn", "bn", group)]
    layers.append(KerasLayer(names(activation), WEIGHTLESS, group))
    if excite:
        layers += [
            KerasLayer(f"{prefix}squeeze_excite_avg_pool", WEIGHTLESS, group),
            KerasLayer(f"{prefix}squeeze_excite_conv", "conv_bias", group),
            KerasLayer(f"{prefix}squeeze_excite_relu", WEIGHTLESS, group),
            KerasLayer(f"{prefix}squeeze_excite_conv_1", "conv_bias", group),
            KerasLayer(names("relu"), WEIGHTLESS, group),  # the ReLU6 of Keras' hard-sigmoid
            KerasLayer(f"{prefix}squeeze_excite_mul", WEIGHTLESS, group),
        ]
    layers += [KerasLayer(f"{prefix}project", "conv", group), KerasLayer(f"{prefix}project_bn", "bn", group)]
    return layers + ([KerasLayer(f"{prefix}add", WEIGHTLESS, group)] if stride == 1 and in_channels == filters else [])


def keras_layers(arch: Architecture) -> list[KerasLayer]:
    """``keras.applications.MobileNetV3Large(include_top=False).layers`` (input left out), with kinds and groups."""
    names = _Names()
    layers = [
        KerasLayer("rescaling", WEIGHTLESS, "stem"),
        KerasLayer("conv", "conv", "stem"),
        KerasLayer("conv_bn", "bn", "stem"),
        KerasLayer(names("hard_swish"), WEIGHTLESS, "stem"),
    ]
    channels = STEM_CHANNELS
    for index, config in enumerate(BLOCKS):
        layers += _block(index, config, channels, names)
        channels = config[1]
    return [
        *layers,
        KerasLayer("conv_1", "conv", "top"),
        KerasLayer("conv_1_bn", "bn", "top"),
        KerasLayer(names("hard_swish"), WEIGHTLESS, "top"),
    ]

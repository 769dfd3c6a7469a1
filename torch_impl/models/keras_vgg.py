"""The torch twin of keras.applications' VGG16 / VGG19: torchvision's ``vgg16().features`` / ``vgg19().features``.

torchvision's features are Keras' base layer for layer (3x3 convolutions with bias and padding 1, ReLU, 2x2 max
pooling; 14,714,688 / 20,024,384 parameters); this twin only names them after Keras' layers and cuts the blocks.
"""

from __future__ import annotations

from collections import OrderedDict

from torch import nn
from torchvision.models import vgg16, vgg19

from suite.architectures.catalog import Architecture
from suite.spec.models import ModelSpec
from torch_impl.models.keras_layout import register_twin

_FEATURES = {"VGG16": vgg16, "VGG19": vgg19}


@register_twin("keras_vgg")
def vgg_twin(arch: Architecture, spec: ModelSpec) -> OrderedDict[str, nn.Module]:
    """``block1`` .. ``block5``: torchvision's feature layers under Keras' names (``block{b}_conv{i}``, ``_pool``)."""
    layers = iter(_FEATURES[arch.options["constructor"]](weights=None).features)
    body: OrderedDict[str, nn.Module] = OrderedDict()
    for block, convs in enumerate(arch.options["convs"], start=1):
        named: OrderedDict[str, nn.Module] = OrderedDict()
        for index in range(1, convs + 1):
            named[f"block{block}_conv{index}"] = next(layers)
            named[f"block{block}_conv{index}_relu"] = next(layers)
        named[f"block{block}_pool"] = next(layers)
        body[f"block{block}"] = nn.Sequential(named)
    return body

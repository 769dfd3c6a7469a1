"""Builders of the catalog's shared architectures (:mod:`suite.architectures.catalog`), one per family.

Each builder returns the network with the catalog's group names and its weighted layers named as the family's
converter (``suite.architectures.convert_<family>``) expects, so weights in the neutral layout load into it.
Mirrors ``torch_impl/models/shared.py``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import keras

from keras_impl.models.batchnorm import with_torch_batchnorm
from keras_impl.models.groups import group_layers
from keras_impl.models.heads import head_layers
from keras_impl.models.registry import HEAD_GROUP, BuildOptions, BuiltModel, register_model
from keras_impl.models.weights import load_shared_weights
from suite.architectures.catalog import CATALOG, Architecture
from suite.architectures.convert import layer_table
from suite.spec.models import ModelSpec

_RESNET_RULES = ((r"^(conv1|pool1)_", "stem"), (r"^stack(\d)_", lambda match: f"layer{int(match.group(1)) + 1}"))
_STAGE_FILTERS = (64, 128, 256, 512)
_STAGE_STRIDES = (1, 2, 2, 2)


def build_resnet(
    arch: Architecture, spec: ModelSpec, input_shape: tuple[int, int, int], num_classes: int, options: BuildOptions
) -> BuiltModel:
    """The torchvision ResNet v1.5 (``model.depth`` keeps the first stages) + head, with ``spec.weights`` loaded."""
    import keras_hub

    if input_shape[2] != 3:
        raise ValueError(f"{arch.name} expects 3-channel images, got {input_shape[2]}; set dataset.channels = 3")
    stages = spec.depth or len(_STAGE_FILTERS)
    if stages > len(_STAGE_FILTERS):
        raise ValueError(f"model.depth must be 1..4 for a ResNet, got {spec.depth}")
    backbone = keras_hub.models.ResNetBackbone(
        input_conv_filters=[64],
        input_conv_kernel_sizes=[7],
        stackwise_num_filters=list(_STAGE_FILTERS[:stages]),
        stackwise_num_blocks=list(arch.options["blocks"][:stages]),
        stackwise_num_strides=list(_STAGE_STRIDES[:stages]),
        block_type=arch.options["block"],
        use_pre_activation=False,
        image_shape=tuple(input_shape),
    )  # KerasHub's v1 ResNetBackbone is torchvision's layer for layer: symmetric ZeroPadding, BN eps 1e-5, momentum 0.9
    return _classifier(arch, with_torch_batchnorm(backbone), spec, num_classes)


def _classifier(arch: Architecture, backbone: keras.Model, spec: ModelSpec, num_classes: int) -> BuiltModel:
    """One flat functional model: the backbone's layers, then the head; groups by the family's name rules."""
    head = head_layers(spec, num_classes)
    outputs = backbone.output
    for layer in head:
        outputs = layer(outputs)
    model = keras.Model(backbone.input, outputs, name=f"{arch.name}_classifier")
    groups = {**group_layers(backbone.layers, _RESNET_RULES), HEAD_GROUP: head}
    unknown = [name for name in groups if name not in arch.groups]
    if unknown:
        raise ValueError(f"{arch.name}: layers fell into group(s) {unknown} the catalog does not declare")
    order = tuple(pair.keras for pair in layer_table(arch))
    built = BuiltModel(model=model, groups=groups, backbone_layers=list(backbone.layers), weight_order=order)
    load_shared_weights(built, arch, spec.weights)
    return built


_FAMILY_BUILDERS: dict[str, Callable[..., BuiltModel]] = {"resnet": build_resnet}


def _register_catalog() -> None:
    for arch in CATALOG:
        builder = _FAMILY_BUILDERS.get(arch.family)
        if builder is not None:
            register_model(arch.name, description=arch.description, pretrained=arch.converts_weights)(
                functools.partial(builder, arch)
            )


_register_catalog()

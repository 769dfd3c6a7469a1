"""The torch twins of the catalog's keras.applications-layout entries (:mod:`suite.architectures.keras_layout`).

A family's twin (``register_twin``, called with the entry and its ``ModelSpec``) returns its body as
``{group: module}`` in the catalog's group order, each weighted Keras layer a module registered under that layer's
own name (``conv2_block1_1_conv``); weightless Keras layers need no module. This builder adds the suite's head,
names every tensor ``{keras layer}.{suffix}`` in the neutral layout (``BuiltModel.neutral_keys``), lists the Keras
base's layers with the module of each (``BuiltModel.keras_layers``: what ``finetune.unfreeze_last_layers`` counts)
and loads ``spec.weights``.
Mirrors ``keras_impl/models/keras_layout.py``.
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from collections.abc import Callable

from torch import nn

from suite.architectures.catalog import CATALOG, Architecture
from suite.architectures.keras_layout import HEAD_LAYER, check_declared_groups, keras_layers
from suite.spec.models import ModelSpec
from torch_impl.models.heads import classifier_layers, feature_shape
from torch_impl.models.registry import BuiltModel, InputShape, register_model
from torch_impl.models.shared import load_shared_weights

Twin = Callable[[Architecture, ModelSpec], "OrderedDict[str, nn.Module]"]
_TWINS: dict[str, Twin] = {}


def register_twin(family: str) -> Callable[[Twin], Twin]:
    """Decorator: ``twin`` builds the body of every keras-layout catalog entry of ``family``."""

    def decorate(twin: Twin) -> Twin:
        if family in _TWINS:
            raise ValueError(f"torch twin of {family!r} is already registered")
        _TWINS[family] = twin
        return twin

    return decorate


def keras_layer_modules(arch: Architecture, body: nn.Module) -> list[tuple[str, nn.Module | None]]:
    """Each declared Keras base layer with the twin's module of that name (None for a weightless one without)."""
    declared = {layer.name for layer in keras_layers(arch)}
    found: dict[str, nn.Module] = {}
    for path, module in body.named_modules():
        name = path.rpartition(".")[2]
        if name not in declared:
            continue
        if name in found:
            raise ValueError(f"{arch.name}: two torch modules are named after Keras layer {name!r}")
        found[name] = module
    layers = [(layer.name, found.get(layer.name)) for layer in keras_layers(arch)]
    missing = [layer.name for layer in keras_layers(arch) if layer.weighted and layer.name not in found]
    if missing:
        raise ValueError(f"{arch.name}: the torch twin has no module for Keras layer(s) {', '.join(missing[:3])}")
    owned = {id(p) for _, module in layers if module is not None for p in module.parameters()}
    stray = [name for name, p in body.named_parameters() if id(p) not in owned]
    if stray:
        raise ValueError(f"{arch.name}: torch parameter {stray[0]} belongs to no declared Keras layer")
    return layers


def _head(spec: ModelSpec, arch: Architecture, body: nn.Module, input_shape: InputShape, classes: int) -> nn.Module:
    """The Keras runner's head (``keras_impl.models.heads``): pooling, default dropout, hidden layers, logits."""
    channels, height, width = feature_shape(body, input_shape)
    if spec.head == "flatten":
        return nn.Sequential(nn.Flatten(), *classifier_layers(spec, channels * height * width, classes))
    dropout = arch.options.get("head_dropout", 0.0)
    lead = [nn.Dropout(dropout)] if spec.head == "default" and dropout else []
    return nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), *lead, *classifier_layers(spec, channels, classes))


def build_keras_layout(arch: Architecture, spec: ModelSpec, input_shape: InputShape, num_classes: int) -> BuiltModel:
    """``arch``'s torch twin + head, with ``spec.weights`` (a file of either framework, Keras' imagenet, ``run:``)."""
    if input_shape[2] != 3:
        raise ValueError(f"{arch.name} expects 3-channel images, got {input_shape[2]}; set dataset.channels = 3")
    if spec.depth is not None:
        raise ValueError(f"model.depth truncates the torchvision-layout ResNets only, not {arch.name}")
    check_declared_groups(arch)
    body = _TWINS[arch.family](arch, spec)
    for layer in staged(body).modules():
        if isinstance(layer, nn.modules.batchnorm._BatchNorm) and arch.batchnorm is not None:
            layer.momentum, layer.eps = arch.batchnorm  # the network's own, as keras.applications builds it
    if list(body) != [name for name in arch.groups if name != "head"]:
        raise ValueError(f"{arch.name}: the torch twin's groups {list(body)} are not the catalog's {arch.groups}")
    layers = keras_layer_modules(arch, staged(body))
    body["head"] = _head(spec, arch, staged(body), input_shape, num_classes)
    module = staged(body)
    built = BuiltModel(module, {name: [stage] for name, stage in body.items()}, staged=True, keras_layers=layers)
    built.neutral_keys = _neutral_keys(module, layers)
    load_shared_weights(built, arch, spec.weights)
    return built


def staged(body: OrderedDict[str, nn.Module]) -> nn.Sequential:
    """The groups run one after another, each a child named after it (``features.1`` as ``features_1``)."""
    return nn.Sequential(OrderedDict((name.replace(".", "_"), stage) for name, stage in body.items()))


def _neutral_keys(module: nn.Module, layers: list[tuple[str, nn.Module | None]]) -> dict[str, str]:
    """Suite state-dict name -> ``{keras layer}.{suffix}`` (the head's one Linear is Keras' ``logits``)."""
    neutral = {
        id(tensor): f"{name}.{suffix}"
        for name, layer in layers
        if layer is not None
        for suffix, tensor in layer.state_dict(keep_vars=True).items()
    }
    head = module.get_submodule("head")
    linears = [m for m in head.modules() if isinstance(m, nn.Linear)]
    if len(linears) == 1:
        neutral.update({id(linears[0].weight): f"{HEAD_LAYER}.weight", id(linears[0].bias): f"{HEAD_LAYER}.bias"})
    state = module.state_dict(keep_vars=True)
    return {key: neutral[id(tensor)] for key, tensor in state.items() if id(tensor) in neutral}


def register_keras_layout() -> None:
    """Register every keras-layout catalog entry whose family has a twin (after the twin modules are imported)."""
    for arch in CATALOG:
        if arch.layout == "keras.applications" and arch.family in _TWINS:
            register_model(arch.name, description=arch.description, loads_weights=True)(
                functools.partial(build_keras_layout, arch)
            )

"""The catalog's keras.applications-layout entries (:mod:`suite.architectures.keras_layout`) in Keras.

Each entry is ``keras.applications.<constructor>(include_top=False)`` as published, with the suite's head, in one
flat functional model; its layers must be exactly the family's declared list (the torch twin's names and what
``finetune.unfreeze_last_layers`` counts), its groups are the declared ones and ``spec.weights`` loads through the
converter (Keras' cache file for ``"imagenet"``, a file of either framework, ``run:``). Mirrors
``torch_impl/models/keras_layout.py``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import keras

from keras_impl.models.applications import preprocess_function
from keras_impl.models.batchnorm import keeping_float64
from keras_impl.models.heads import head_kind, head_layers
from keras_impl.models.registry import HEAD_GROUP, BuildOptions, BuiltModel, register_model
from keras_impl.models.weights import load_shared_weights
from suite.architectures.catalog import CATALOG, Architecture
from suite.architectures.convert import layer_table
from suite.architectures.keras_layout import check_declared_groups, layer_groups
from suite.spec.models import ModelSpec

BaseBuilder = Callable[[Architecture, ModelSpec, tuple[int, int, int]], keras.Model]
_BASES: dict[str, BaseBuilder] = {}


def register_base(family: str) -> Callable[[BaseBuilder], BaseBuilder]:
    """Decorator: ``builder`` makes the Keras base of ``family``'s entries (default: the constructor as published)."""

    def decorate(builder: BaseBuilder) -> BaseBuilder:
        if family in _BASES:
            raise ValueError(f"Keras base of {family!r} is already registered")
        _BASES[family] = builder
        return builder

    return decorate


def _base(arch: Architecture, spec: ModelSpec, input_shape: tuple[int, int, int]) -> keras.Model:
    """``keras.applications.<constructor>(include_top=False, weights=None)``, or the family's registered base."""
    if arch.family in _BASES:
        return _BASES[arch.family](arch, spec, input_shape)
    constructor = getattr(keras.applications, arch.options["constructor"])
    return constructor(include_top=False, weights=None, input_shape=input_shape)


def build_keras_layout(
    arch: Architecture, spec: ModelSpec, input_shape: tuple[int, int, int], num_classes: int, options: BuildOptions
) -> BuiltModel:
    """``keras.applications`` base of ``arch`` + head per ``spec.head``, with ``spec.weights`` loaded."""
    if spec.depth is not None:
        raise ValueError(f"model.depth truncates the torchvision-layout ResNets only, not {arch.name}")
    check_declared_groups(arch)
    base = keeping_float64(_base(arch, spec, tuple(input_shape)))
    groups = _declared_groups(arch, base)
    head = head_layers(spec, num_classes, arch.options.get("head_dropout", 0.0))
    outputs = base.output
    for layer in head:
        outputs = layer(outputs)
    model = keras.Model(base.input, outputs, name=f"{arch.name}_classifier")
    module = arch.options["preprocess_module"]
    notes = {
        "head": head_kind(spec),
        "preprocess_input": f"keras.applications.{module}.preprocess_input"
        if options.preprocess_input
        else "none (inputs as normalised by dataset.normalization)",
    }
    built = BuiltModel(
        model=model,
        groups={**groups, HEAD_GROUP: head},
        backbone_layers=list(base.layers),
        base=base,
        preprocess=preprocess_function(module) if options.preprocess_input else None,
        notes=notes,
        weight_order=tuple(pair.keras for pair in layer_table(arch)),
    )
    load_shared_weights(built, arch, spec.weights)
    return built


def _declared_groups(arch: Architecture, base: keras.Model) -> dict[str, list]:
    """``{group: [layers]}`` from the declared list; ValueError naming the first layer Keras and it disagree on."""
    declared = layer_groups(arch)
    built = [layer for layer in base.layers if type(layer).__name__ != "InputLayer"]
    names = [layer.name for layer in built]
    if names != list(declared):
        first = next((a, b) for a, b in zip([*names, None], [*declared, None], strict=False) if a != b)
        raise ValueError(
            f"{arch.name}: keras.applications builds layer {first[0]!r}, the catalog declares {first[1]!r}"
        )
    groups: dict[str, list] = {}
    for layer in built:
        groups.setdefault(declared[layer.name], []).append(layer)
    return groups


def _register_catalog() -> None:
    for arch in CATALOG:
        if arch.layout == "keras.applications":
            register_model(arch.name, description=arch.description, pretrained=True)(
                functools.partial(build_keras_layout, arch)
            )


_register_catalog()

"""keras.applications backbones with a classifier head, one builder for the whole table.

The classifier is one flat functional model (the backbone's layers and the head's), so it can be cut at a
group boundary for the feature cache and its BatchNorm layers follow their own ``trainable`` flags.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable

import keras
import numpy as np

from keras_impl.models.batchnorm import keeping_float64
from keras_impl.models.families import APPLICATIONS, GROUP_RULES, ApplicationModel
from keras_impl.models.groups import group_layers
from keras_impl.models.heads import head_kind, head_layers
from keras_impl.models.registry import HEAD_GROUP, BuildOptions, BuiltModel, register_model
from keras_impl.models.weights import create_base
from suite.architectures.catalog import architecture
from suite.spec.models import ModelSpec


def build_application(
    app: ApplicationModel,
    spec: ModelSpec,
    input_shape: tuple[int, int, int],
    num_classes: int,
    options: BuildOptions,
) -> BuiltModel:
    """Headless ``app`` base + head per ``spec.head`` (flatten | gap | default) and optional hidden layers.

    ``default`` is the torchvision model's own head (GAP, the family's dropout, Dense). With
    ``options.preprocess_input`` the family's ``preprocess_input`` is applied to each batch first.
    """
    base = keeping_float64(create_base(app, spec.weights, input_shape))
    head = head_layers(spec, num_classes, app.head_dropout)
    outputs = base.output
    for layer in head:
        outputs = layer(outputs)
    model = keras.Model(base.input, outputs, name=f"{app.name}_classifier")
    groups = {**group_layers(base.layers, GROUP_RULES[app.family]), HEAD_GROUP: head}
    notes = {
        "head": head_kind(spec),
        "preprocess_input": f"keras.applications.{app.preprocess_module}.preprocess_input"
        if options.preprocess_input
        else "none (inputs as normalised by dataset.normalization)",
    }
    preprocess = preprocess_function(app.preprocess_module) if options.preprocess_input else None
    return BuiltModel(
        model=model, groups=groups, backbone_layers=list(base.layers), base=base, preprocess=preprocess, notes=notes
    )


def preprocess_function(module: str) -> Callable[[np.ndarray], np.ndarray]:
    """The family's ``preprocess_input`` (which expects 0..255 RGB) on a copy of a numpy batch."""
    function = importlib.import_module(f"keras.applications.{module}").preprocess_input

    def preprocess(batch: np.ndarray) -> np.ndarray:
        return np.asarray(function(np.array(batch, dtype=np.float32, copy=True)), dtype=np.float32)

    return preprocess


def _register_table() -> None:
    for app in APPLICATIONS:
        if architecture(app.name) is not None:
            continue  # the catalog's keras-layout entry (keras_impl.models.keras_layout) builds it
        builder = functools.partial(build_application, app)
        register_model(
            app.name, description=f"keras.applications.{app.constructor} (include_top=False) + head", pretrained=True
        )(builder)


_register_table()

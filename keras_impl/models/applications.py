"""keras.applications backbones with a seed-style classifier head, one builder for the whole table."""

from __future__ import annotations

import functools
import importlib
from typing import Any

import keras
from keras import layers

from keras_impl.models.families import APPLICATIONS, GROUP_RULES, ApplicationModel
from keras_impl.models.groups import group_layers
from keras_impl.models.registry import HEAD_GROUP, BuildOptions, BuiltModel, register_model
from keras_impl.models.weights import create_base
from suite.spec.models import ModelSpec

FLATTEN_DEFAULT = frozenset({"mobilenet_v2"})  # seed 003: Sequential([base, Flatten(), Dense(10)])


class PreprocessInput(layers.Layer):
    """Runs a keras.applications ``preprocess_input`` (which expects 0..255 RGB) inside the model."""

    def __init__(self, module: str, **kwargs: Any) -> None:
        super().__init__(dtype="float32", **kwargs)
        self.module = module
        self._function = importlib.import_module(f"keras.applications.{module}").preprocess_input

    def call(self, inputs: Any) -> Any:  # noqa: D102
        return self._function(inputs)

    def get_config(self) -> dict[str, Any]:  # noqa: D102
        return {**super().get_config(), "module": self.module}


class InferenceModeBase(layers.Layer):
    """Calls a backbone with ``training=False`` whatever the outer call says.

    Keras 3 functional models override a ``training=False`` written into the graph with the ``training``
    value of the outer call (keras-team/keras#20285), so ``base(x, training=False)`` in a functional model
    does not keep BatchNorm in inference mode once the base is unfrozen. This wrapper's ``call`` takes no
    ``training`` argument, so Keras cannot override the explicit ``False`` it passes on; gradients still
    reach the base's trainable weights.
    """

    def __init__(self, base: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.base = base

    def call(self, inputs: Any) -> Any:  # noqa: D102
        return self.base(inputs, training=False)

    def compute_output_shape(self, input_shape: tuple) -> tuple:  # noqa: D102
        return self.base.compute_output_shape(input_shape)


def build_application(
    app: ApplicationModel,
    spec: ModelSpec,
    input_shape: tuple[int, int, int],
    num_classes: int,
    options: BuildOptions,
) -> BuiltModel:
    """Headless ``app`` base + head per ``spec.head`` (flatten | gap | default) and optional hidden layers.

    With ``options.bn_mode == "frozen"`` the base runs inside :class:`InferenceModeBase`, so its BatchNorm
    layers stay in inference mode even once unfrozen for fine-tuning; with "train" trainable BatchNorm layers
    use batch statistics (frozen ones are always in inference mode in Keras 3).
    ``options.preprocess_input`` puts the family's ``preprocess_input`` in front of the base.
    """
    base = create_base(app, spec.weights, input_shape)
    inputs = keras.Input(shape=input_shape, name="images")
    features = (
        PreprocessInput(app.preprocess_module, name="preprocess_input")(inputs) if options.preprocess_input else inputs
    )
    features = InferenceModeBase(base, name="base")(features) if options.bn_mode == "frozen" else base(features)
    head = _head_layers(app, spec, num_classes)
    outputs = features
    for layer in head:
        outputs = layer(outputs)
    model = keras.Model(inputs, outputs, name=f"{app.name}_classifier")
    groups = {**group_layers(base.layers, GROUP_RULES[app.family]), HEAD_GROUP: head}
    notes = {
        "head": _head_kind(app, spec),
        "preprocess_input": f"keras.applications.{app.preprocess_module}.preprocess_input"
        if options.preprocess_input
        else "none (inputs as normalised by dataset.normalization)",
        "bn_mode": options.bn_mode,
    }
    return BuiltModel(model=model, groups=groups, backbone_layers=list(base.layers), base=base, notes=notes)


def _head_kind(app: ApplicationModel, spec: ModelSpec) -> str:
    if spec.head != "default":
        return spec.head
    return "flatten" if app.name in FLATTEN_DEFAULT else "gap"


def _head_layers(app: ApplicationModel, spec: ModelSpec, num_classes: int) -> list[Any]:
    pool = (
        layers.Flatten(name="head_flatten")
        if _head_kind(app, spec) == "flatten"
        else layers.GlobalAveragePooling2D(name="head_pool")
    )
    head: list[Any] = [pool]
    for index, width in enumerate(spec.head_hidden):
        head.append(layers.Dense(width, activation="relu", name=f"head_dense_{index}"))
        if spec.head_dropout:
            head.append(layers.Dropout(spec.head_dropout[index], name=f"head_dropout_{index}"))
    head.append(layers.Dense(num_classes, activation="softmax", dtype="float32", name="predictions"))
    return head


def _register_table() -> None:
    for app in APPLICATIONS:
        builder = functools.partial(build_application, app)
        register_model(
            app.name, description=f"keras.applications.{app.constructor} (include_top=False) + head", pretrained=True
        )(builder)


_register_table()

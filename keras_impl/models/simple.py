"""Small models trained from scratch: the MLP baseline and seed 003's simple CNN."""

from __future__ import annotations

import keras
from keras import layers

from keras_impl.models.heads import logits_layer
from keras_impl.models.registry import HEAD_GROUP, BuildOptions, BuiltModel, register_model
from suite.spec.models import ModelSpec

MLP_DEFAULT_DROPOUT = 0.2


@register_model("mlp", description="Flatten -> Dense(128) -> Dropout -> Dense(64) -> Dense(C); from scratch")
def build_mlp(
    spec: ModelSpec, input_shape: tuple[int, int, int], num_classes: int, options: BuildOptions
) -> BuiltModel:
    """MLP baseline (same layers as the torch runner's); ``spec.dropout`` replaces the default 0.2."""
    rate = MLP_DEFAULT_DROPOUT if spec.dropout is None else spec.dropout
    groups = {
        "hidden1": [
            layers.Flatten(name="flatten"),
            layers.Dense(128, activation="relu", name="hidden1"),
            layers.Dropout(rate, name="dropout"),
        ],
        "hidden2": [layers.Dense(64, activation="relu", name="hidden2")],
        HEAD_GROUP: [_classifier(num_classes)],
    }
    return _chain(input_shape, groups, name="mlp")


@register_model("simple_cnn", description="Seed 003 CNN: 2x(Conv3x3 + ReLU + MaxPool) -> Dense(512) -> Dense(C)")
def build_simple_cnn(
    spec: ModelSpec, input_shape: tuple[int, int, int], num_classes: int, options: BuildOptions
) -> BuiltModel:
    """Seed 003's CNN, layer for layer (2,122,186 parameters on 32x32x3 with 10 classes)."""
    groups = {
        "conv1": [
            layers.Conv2D(32, (3, 3), padding="same", name="conv1"),
            layers.Activation("relu", name="conv1_relu"),
            layers.MaxPooling2D((2, 2), name="pool1"),
        ],
        "conv2": [
            layers.Conv2D(64, (3, 3), padding="same", name="conv2"),
            layers.Activation("relu", name="conv2_relu"),
            layers.MaxPooling2D((2, 2), name="pool2"),
        ],
        "dense": [layers.Flatten(name="flatten"), layers.Dense(512, activation="relu", name="dense")],
        HEAD_GROUP: [_classifier(num_classes)],
    }
    return _chain(input_shape, groups, name="simple_cnn")


def _classifier(num_classes: int) -> keras.layers.Layer:
    """The final Dense (:func:`keras_impl.models.heads.logits_layer`)."""
    return logits_layer(num_classes)


def _chain(input_shape: tuple[int, int, int], groups: dict[str, list], name: str) -> BuiltModel:
    inputs = keras.Input(shape=input_shape, name="images")
    outputs = inputs
    for group_layers in groups.values():
        for layer in group_layers:
            outputs = layer(outputs)
    model = keras.Model(inputs, outputs, name=name)
    backbone = [layer for group, members in groups.items() if group != HEAD_GROUP for layer in members]
    return BuiltModel(model=model, groups=groups, backbone_layers=backbone)

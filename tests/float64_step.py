"""One SGD step of a keras-layout entry in float64, in torch (its twin) and in Keras (keras.applications itself).

Float64 takes float32 rounding out of the comparison: deep networks with train-mode BatchNorm over a few values per
channel amplify it past any fixed tolerance, while a different function still shows at once. Both sides start
from the same seed-drawn arrays in the neutral layout and return the arrays after the step in it.
"""

from __future__ import annotations

import numpy as np

from suite.architectures.catalog import architecture
from suite.architectures.convert import layer_table, to_keras, to_neutral
from suite.architectures.shared_init import draw_initial_weights
from suite.spec.models import ModelSpec

LR = 0.1
BATCH = 8
CLASSES = 10


def _batch(shape: tuple[int, int, int]) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.random((BATCH, *shape)), rng.integers(0, CLASSES, BATCH)


def _torch_start(name: str, shape: tuple[int, int, int]):
    from torch_impl.models import build_model
    from torch_impl.shared_weights import load_weights, slot_bindings

    built = build_model(ModelSpec(name=name), shape, CLASSES)
    bindings = slot_bindings(built, shape)
    load_weights(bindings, draw_initial_weights([b.slot for b in bindings], 0))
    return built


def initial_state(name: str, shape: tuple[int, int, int]) -> dict[str, np.ndarray]:
    """The seed-drawn starting arrays, neutral layout."""
    from torch_impl.models.shared import neutral_state

    built = _torch_start(name, shape)
    return {key: value.double().numpy() for key, value in neutral_state(built).items() if value.is_floating_point()}


def torch_step(name: str, shape: tuple[int, int, int]) -> dict[str, np.ndarray]:
    """The torch twin after one SGD step (train mode) in float64, neutral layout."""
    import torch

    from torch_impl.models.shared import neutral_state

    built = _torch_start(name, shape)
    module = built.module.double().train()
    inputs, labels = _batch(shape)
    loss = torch.nn.functional.cross_entropy(
        module(torch.from_numpy(inputs).permute(0, 3, 1, 2)), torch.from_numpy(labels)
    )
    loss.backward()
    with torch.no_grad():
        for parameter in module.parameters():
            parameter -= LR * parameter.grad
    return {key: value.numpy() for key, value in neutral_state(built).items() if value.is_floating_point()}


def keras_step(name: str, shape: tuple[int, int, int]) -> dict[str, np.ndarray]:
    """keras.applications' network + GAP + Dense after one SGD step (``training=True``) in float64, neutral layout."""
    import keras
    import tensorflow as tf

    arch, table = architecture(name), layer_table(architecture(name))
    previous = keras.config.floatx(), keras.config.dtype_policy()
    keras.config.set_floatx("float64")
    keras.config.set_dtype_policy("float64")
    try:
        keras.backend.clear_session()
        base = getattr(keras.applications, arch.options["constructor"])(
            include_top=False, weights=None, input_shape=shape
        )
        pooled = keras.layers.GlobalAveragePooling2D()(base.output)
        model = keras.Model(base.input, keras.layers.Dense(CLASSES, name="logits")(pooled))
        for layer_name, arrays in to_keras(initial_state(name, shape), table).items():
            for variable, array in zip(model.get_layer(layer_name).weights, arrays, strict=True):
                variable.assign(array)
        inputs, labels = _batch(shape)
        with tf.GradientTape() as tape:
            logits = model(inputs, training=True)
            loss = tf.reduce_mean(tf.keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True))
        gradients = tape.gradient(loss, model.trainable_variables)
        for variable, gradient in zip(model.trainable_variables, gradients, strict=True):
            variable.assign(variable - LR * gradient)
        layers = {layer.name: [np.asarray(v.numpy()) for v in layer.weights] for layer in model.layers if layer.weights}
    finally:
        keras.config.set_floatx(previous[0])
        keras.config.set_dtype_policy(previous[1])
    return to_neutral(layers, table)

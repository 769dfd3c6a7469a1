"""The Keras runner's train steps (keras_impl.steps) are train_on_batch's, bit for bit, on every engine: weights,
optimizer state, per-step loss and correct count, with a flush and a change of a variable between the steps."""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = """
import json
import keras
import numpy as np
from keras_impl.steps import train_steps

rng = np.random.default_rng(0)
x = rng.normal(size=(6, 16, 8, 8, 3)).astype("float32")
y = rng.integers(0, 4, (6, 16))


def model():
    keras.utils.set_random_seed(1)
    inputs = keras.Input((8, 8, 3))
    h = keras.layers.Conv2D(4, 3, name="frozen_conv")(inputs)
    h = keras.layers.BatchNormalization(name="bn")(h)
    h = keras.layers.Dropout(0.3)(keras.layers.GlobalAveragePooling2D()(h))
    built = keras.Model(inputs, keras.layers.Dense(4, name="head")(h))
    built.get_layer("frozen_conv").trainable = False
    built.compile(
        optimizer=keras.optimizers.Adam(1e-2),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    )
    return built


def train(step, flush, built):
    logs = []
    for index in range(len(x)):
        if index == 3:  # what the session does between epochs: flush, then write a variable
            flush()
            built.optimizer.learning_rate.assign(5e-3)
            built.get_layer("head").bias.assign(np.full(4, 0.25, "float32"))
        logs.append(list(step(x[index], y[index])))
    flush()
    weights = [keras.ops.convert_to_numpy(v) for v in built.weights + built.optimizer.variables]
    return logs, weights, keras.ops.convert_to_numpy(built.predict_on_batch(x[0]))


reference = model()
def on_batch(a, b):
    logs = reference.train_on_batch(a, b, return_dict=True)
    return logs["loss"], int(round(logs["accuracy"] * len(b)))


ref_logs, ref_weights, ref_out = train(on_batch, lambda: None, reference)
fast = model()
steps = train_steps(fast)
logs, weights, out = train(steps.run, steps.flush, fast)
print(json.dumps({
    "driver": type(steps).__name__,
    "logs_equal": logs == ref_logs,
    "weights_equal": all(np.array_equal(a, b) for a, b in zip(weights, ref_weights, strict=True)),
    "predict_equal": bool(np.array_equal(out, ref_out)),
    "trained": bool(not np.array_equal(weights[-1], ref_weights[-1] * 0) and ref_logs[0] != ref_logs[-1]),
}))
"""
ENGINES = {"tensorflow": "TrainSteps", "jax": "_JaxTrainSteps", "torch": "_TorchTrainSteps"}


@pytest.mark.parametrize(
    "engine",
    [
        pytest.param(name, marks=pytest.mark.skipif(importlib.util.find_spec(name) is None, reason=f"{name} missing"))
        for name in ENGINES
    ],
)
def test_train_steps_are_train_on_batch_bit_for_bit(engine: str) -> None:
    env = {**os.environ, "KERAS_BACKEND": engine, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["driver"] == ENGINES[engine], result
    assert result["trained"], result
    assert result["logs_equal"] and result["weights_equal"] and result["predict_equal"], result

"""The Keras runner's BatchNormalization keeps float64 on every engine (Keras's own rounds it to float32 off
TensorFlow), and its torch variant updates the moving variance as torch's BatchNorm2d does."""

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
from keras_impl.models.batchnorm import Float64BatchNormalization, TorchBatchNormalization, keeping_float64

keras.config.set_dtype_policy("float64")
x = np.random.default_rng(0).normal(3.0, 1.0, (8, 6, 6, 4))
mean, var = x.mean((0, 1, 2)), x.var((0, 1, 2))
expected = (x - mean) / np.sqrt(var + 1e-3)
errors = {}
for name, layer in (("keras", keras.layers.BatchNormalization()), ("float64", Float64BatchNormalization())):
    out = keras.ops.convert_to_numpy(layer(x, training=True))
    errors[name] = float(np.abs(out - expected).max())
    moving = keras.ops.convert_to_numpy(layer.moving_variance)
    errors[name + "_moving"] = float(np.abs(moving - (0.99 + 0.01 * var)).max())
torch_style = TorchBatchNormalization(momentum=0.9)
torch_style(x, training=True)
unbiased = var * x[..., 0].size / (x[..., 0].size - 1)
moving = keras.ops.convert_to_numpy(torch_style.moving_variance)
errors["torch_moving"] = float(np.abs(moving - (0.9 + 0.1 * unbiased)).max())
inputs = keras.Input((6, 6, 4))
model = keras.Model(inputs, keras.layers.BatchNormalization(name="bn")(inputs))
model.get_layer("bn").gamma.assign(np.arange(1.0, 5.0))
kept = keeping_float64(model)
errors["swapped"] = type(kept.get_layer("bn")).__name__
errors["weights"] = float(np.abs(keras.ops.convert_to_numpy(kept.get_layer("bn").gamma) - np.arange(1.0, 5.0)).max())
print(json.dumps(errors))
"""
ENGINES = [
    pytest.param(engine, marks=pytest.mark.skipif(importlib.util.find_spec(engine) is None, reason=f"{engine} missing"))
    for engine in ("tensorflow", "jax", "torch")
]


@pytest.mark.parametrize("engine", ENGINES)
def test_batchnorm_keeps_float64_and_the_torch_update_on_every_engine(engine: str) -> None:
    env = {**os.environ, "KERAS_BACKEND": engine, "JAX_ENABLE_X64": "1", "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    errors = json.loads(done.stdout.strip().splitlines()[-1])
    assert errors["float64"] < 1e-12 and errors["float64_moving"] < 1e-12, errors
    assert errors["torch_moving"] < 1e-12, errors
    assert errors["swapped"] == "Float64BatchNormalization" and errors["weights"] == 0.0, errors
    if engine != "tensorflow":  # why the layer exists: Keras's own computes float64 in float32 off TensorFlow
        assert errors["keras"] > 1e-9, errors

"""The same checks on each Keras engine, each in its own process (KERAS_BACKEND is read when keras is imported).

Per engine: the optimizer against torch's update rules, a digits run with discriminative LRs, gradual
unfreezing and SGD momentum, and a cached vs uncached frozen-prefix run.
"""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = """
import json, sys, tempfile
from pathlib import Path
sys.path += [{tests!r}, {here!r}]
import keras
import numpy as np
from builders import digits_bundle, keras_spec
from test_optim import GRADS, P0, torch_adam, torch_sgd
from keras_impl import create_keras_runner
from keras_impl.optim import GroupOptimizer
from suite.plan.sections import optimizer_plan
from suite.runners.progress import NullProgress
from suite.spec.models import OptimizerSpec
from suite.training.run import execute

def optimizer_error(spec, expected):
    variable = keras.Variable(P0, name="w")
    optimizer = GroupOptimizer(optimizer_plan(spec), ["g"], {{"w": "g"}})
    optimizer.build([variable])
    optimizer.set_rates({{"g": spec.lr}})
    for grad in GRADS:
        optimizer.apply([keras.ops.convert_to_tensor(grad)], [variable])
    return float(np.abs(keras.ops.convert_to_numpy(variable) - expected).max())

errors = [
    optimizer_error(OptimizerSpec(name="adamw", lr=0.1, weight_decay=0.5),
                    torch_adam(P0, GRADS, 0.1, 0.5, decoupled=True)),
    optimizer_error(OptimizerSpec(name="sgd", lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
                    torch_sgd(P0, GRADS, 0.1, 0.01, 0.9, nesterov=True)),
]
runner, data, engine = create_keras_runner(), digits_bundle(limit=600), keras.backend.backend()

def run(model, **sections):
    spec = keras_spec(model, engine=engine, **sections)
    return execute(spec, runner, data, Path(tempfile.mkdtemp()), NullProgress())

gradual = run({{"name": "mlp", "init": "shared"}}, optimizer={{"name": "sgd", "lr": 0.1, "momentum": 0.9}},
              strategy={{"freeze": "all_but_head", "discriminative_lr": {{"lr_mult": 0.5}},
                        "unfreeze_schedule": {{2: ["last:1"], 3: ["hidden1"]}}}},
              training={{"epochs": 3, "device": "cpu"}})
cache = {{flag: run({{"name": "simple_cnn"}}, strategy={{"freeze": ["conv1", "conv2"]}},
                   training={{"epochs": 1, "feature_cache": flag}}) for flag in (True, False)}}
print("RESULT" + json.dumps({{
    "engine": gradual.extra["engine"],
    "frameworks": gradual.environment["frameworks"],
    "optimizer_errors": errors,
    "accuracy": float((gradual.test_scores.argmax(1) == gradual.test_labels).mean()),
    "trainable": [row["trainable_params"] for row in gradual.history],
    "rates": [[row["lr_hidden1"], row["lr_hidden2"], row["lr_head"]] for row in gradual.history],
    "cached": cache[True].extra["feature_cache"]["active"],
    "val_loss_gap": max(abs(a["val_loss"] - b["val_loss"]) for a, b in zip(cache[True].history, cache[False].history)),
}}))
"""


def _run_on(engine: str) -> dict:
    env = {
        **os.environ,
        "KERAS_BACKEND": engine,
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "PYTHONPATH": str(REPO),
        # sklearn's and torch's OpenMP runtimes both busy-wait on a 2-core machine otherwise (30x slower steps)
        "OMP_WAIT_POLICY": "PASSIVE",
    }
    code = SCRIPT.format(tests=str(Path(__file__).parents[1]), here=str(Path(__file__).parent))
    done = subprocess.run([sys.executable, "-c", code], env=env, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    line = next(line for line in done.stdout.splitlines() if line.startswith("RESULT"))
    return json.loads(line[len("RESULT") :])


def _missing(module: str) -> pytest.MarkDecorator:
    return pytest.mark.skipif(importlib.util.find_spec(module) is None, reason=f"{module} is not installed")


@pytest.mark.parametrize(
    "engine",
    [pytest.param(engine, marks=[pytest.mark.slow, _missing(engine)]) for engine in ("torch", "jax")],
)
def test_strategies_on_other_keras_engines(engine):
    result = _run_on(engine)
    assert result["engine"] == engine and "keras" in result["frameworks"] and engine in result["frameworks"]
    assert max(result["optimizer_errors"]) < 1e-5
    assert result["trainable"] == [650, 650 + 8_256, 650 + 8_256 + 8_320]
    assert result["rates"][0] == pytest.approx([0.025, 0.05, 0.1])
    assert result["accuracy"] > 0.3  # 3 short epochs on 360 images, mostly frozen: learning, not converged
    assert result["cached"] and result["val_loss_gap"] < 1e-4


def test_missing_engine_framework_is_unavailable_before_keras_imports(monkeypatch):
    from suite.runners.registry import BackendUnavailableError, create_runner

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "jax" else real_find_spec(name, *a)
    )
    with pytest.raises(BackendUnavailableError, match=r"keras/jax.*jax.*tlbench\[jax\]"):
        create_runner("keras", "jax")


def test_package_import_registers_runner_without_loading_a_framework():
    code = (
        "import sys, keras_impl; from suite.runners.registry import discover; "
        "entry = discover()['keras']; assert entry.availability()[0]; "
        "assert entry.child_environment('jax') == {'KERAS_BACKEND': 'jax'}; "
        "assert entry.child_environment(None) == {'KERAS_BACKEND': 'tensorflow'}; "
        "loaded = [m for m in ('keras', 'tensorflow', 'torch', 'jax') if m in sys.modules]; "
        "assert not loaded, loaded"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})

"""The same mlp digits run on each Keras backend, each in its own process (KERAS_BACKEND is read at import)."""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from builders import keras_spec as make_spec

REPO = Path(__file__).resolve().parents[2]
SCRIPT = """
import json, sys, tempfile
sys.path.insert(0, {tests!r})
from builders import digits_bundle
from builders import keras_spec as make_spec
from keras_impl import create_keras_runner
from suite.runners.progress import NullProgress
runner = create_keras_runner()
spec = make_spec({{"name": "mlp"}}, keras_backend={backend!r}, optimizer={{"name": "adam", "lr": 3e-3}},
                 training={{"epochs": 5, "batch_size": 32}})
problems = runner.check(spec)
assert not problems, problems
out = runner.run(spec, digits_bundle(), tempfile.mkdtemp(), NullProgress())
accuracy = float((out.test_scores.argmax(1) == out.test_labels).mean())
print("RESULT" + json.dumps({{"backend": out.extra["keras_backend"], "accuracy": accuracy,
                              "frameworks": out.environment["frameworks"], "epochs": len(out.history)}}))
"""


def _run_on(backend: str) -> dict:
    env = {
        **os.environ,
        "KERAS_BACKEND": backend,
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "PYTHONPATH": str(REPO),
        # sklearn's and torch's OpenMP runtimes both busy-wait on a 2-core machine otherwise (30x slower steps)
        "OMP_WAIT_POLICY": "PASSIVE",
    }
    code = SCRIPT.format(tests=str(Path(__file__).parents[1]), backend=backend)
    done = subprocess.run([sys.executable, "-c", code], env=env, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    line = next(line for line in done.stdout.splitlines() if line.startswith("RESULT"))
    return json.loads(line[len("RESULT") :])


def _missing(module: str) -> pytest.MarkDecorator:
    return pytest.mark.skipif(importlib.util.find_spec(module) is None, reason=f"{module} is not installed")


@pytest.mark.parametrize(
    "backend",
    [pytest.param("torch", marks=_missing("torch")), pytest.param("jax", marks=[pytest.mark.slow, _missing("jax")])],
)
def test_mlp_digits_on_other_keras_backends(backend):
    result = _run_on(backend)
    assert result["backend"] == backend
    assert backend in result["frameworks"] and "keras" in result["frameworks"]
    assert result["epochs"] == 5
    assert result["accuracy"] > 0.9


def test_check_names_missing_backend_package(runner, monkeypatch):
    import keras_impl.checks as checks

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        checks.importlib.util, "find_spec", lambda name, *args: None if name == "jax" else real_find_spec(name, *args)
    )
    problems = runner.check(make_spec({"name": "mlp"}, keras_backend="jax"))
    assert problems == ["keras backend 'jax' unavailable: pip install jax"]


def test_missing_keras_backend_framework_is_unavailable_before_keras_imports(monkeypatch):
    import importlib.util

    from keras_impl import create_keras_runner
    from suite.runners.registry import BackendUnavailableError

    real_find_spec = importlib.util.find_spec
    monkeypatch.setenv("KERAS_BACKEND", "jax")
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "jax" else real_find_spec(name, *a)
    )
    with pytest.raises(BackendUnavailableError, match=r"keras backend 'jax' is unavailable: pip install jax"):
        create_keras_runner()

"""Mid-run resume through the real worker: a run killed with SIGKILL after an epoch and started again on the same
directory ends with exactly the metrics and predictions of a run never interrupted (``training.deterministic``).

Each case runs the worker three times: uninterrupted in one directory and, alongside it in
a fresh one, killed once the resume pointer shows an epoch >= 1; then the killed one is started again.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from builders import make_spec

from suite import store
from suite.spec.models import ExperimentSpec
from suite.spec.serialize import run_id, spec_to_toml
from suite.training.resume import POINTER_FILE, RESUME_DIR

ROOT = Path(__file__).resolve().parents[1]
KILL_WAIT_SECONDS = 240.0
RUN_SECONDS = 600


def _needs(*modules: str) -> pytest.MarkDecorator:
    missing = [name for name in modules if importlib.util.find_spec(name) is None]
    return pytest.mark.skipif(bool(missing), reason=f"needs {', '.join(missing)}")


def _spec(backend: str, engine: str | None, epochs: int, **model: Any) -> ExperimentSpec:
    """A deterministic digits MLP with dropout (so the framework's RNG state matters) on the CPU."""
    return make_spec(
        {"name": "mlp", "dropout": 0.2, **model},
        backend,
        engine=engine,
        dataset={"source": "digits", "normalization": "unit"},
        optimizer={"name": "adam", "lr": 1e-3},
        training={
            "epochs": epochs,
            "batch_size": 16,
            "device": "cpu",
            "precision": "fp32",
            "deterministic": True,
            "scheduler": {"name": "plateau", "patience": 0},
            "early_stopping": {"monitor": "val_loss", "patience": 50, "restore_best": True},
        },
    )


def _prepare(directory: Path, spec: ExperimentSpec) -> Path:
    """What the executor writes before it starts a worker: spec.toml and the result header."""
    directory.mkdir(parents=True)
    store.write_text(directory / store.SPEC_FILE, spec_to_toml(spec))
    header = {"run_id": run_id(spec), "name": spec.name, "status": "running", "error": None}
    store.write_json(directory / store.RESULT_FILE, header)
    return directory


def _start(directory: Path, engine: str | None) -> subprocess.Popen:
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE", "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONHASHSEED": "0"}
    env["KERAS_BACKEND"] = engine or "tensorflow"
    log = open(directory / "worker.log", "ab")  # noqa: SIM115 - closed with the process below
    return subprocess.Popen(
        [sys.executable, "-m", "suite.execution.worker", str(directory)], cwd=ROOT, env=env, stdout=log, stderr=log
    )


def _finish(process: subprocess.Popen) -> int:
    try:
        return process.wait(timeout=RUN_SECONDS)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _pointer_epoch(directory: Path) -> int:
    try:
        return int(json.loads((directory / RESUME_DIR / POINTER_FILE).read_text())["epoch"])
    except (OSError, ValueError, KeyError):
        return -1


def _kill_after_epoch(directory: Path, engine: str | None, epoch: int = 1) -> None:
    """Start the worker and SIGKILL it as soon as the resume pointer shows ``epoch`` (bounded wait)."""
    process = _start(directory, engine)
    deadline = time.monotonic() + KILL_WAIT_SECONDS
    try:
        while _pointer_epoch(directory) < epoch and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert process.poll() is None, f"the worker ended before it could be killed:\n{_log(directory)}"
        assert _pointer_epoch(directory) >= epoch, f"no resume state after {KILL_WAIT_SECONDS} s:\n{_log(directory)}"
        process.send_signal(signal.SIGKILL)
    finally:
        _finish(process)


def _log(directory: Path) -> str:
    return (directory / "worker.log").read_text(errors="replace")[-3000:]


def _history(directory: Path) -> list[dict[str, str]]:
    with (directory / store.HISTORY_FILE).open() as handle:
        return [{k: v for k, v in row.items() if k != "seconds"} for row in csv.DictReader(handle)]


def _assert_same_run(resumed: Path, plain: Path) -> None:
    a, b = store.read_result(resumed), store.read_result(plain)
    assert a["status"] == b["status"] == "completed", _log(resumed)
    assert a["metrics"] == b["metrics"]
    assert a["extra"]["order_fingerprint"] == b["extra"]["order_fingerprint"]
    assert a["extra"]["plateau_reductions"] == b["extra"]["plateau_reductions"]
    assert _history(resumed) == _history(plain)
    with np.load(resumed / store.PREDICTIONS_FILE) as x, np.load(plain / store.PREDICTIONS_FILE) as y:
        np.testing.assert_array_equal(x["labels"], y["labels"])
        np.testing.assert_array_equal(x["scores"], y["scores"])


def _resume_case(tmp_path: Path, spec: ExperimentSpec, engine: str | None) -> tuple[dict, dict]:
    plain = _prepare(tmp_path / "plain", spec)
    uninterrupted = _start(plain, engine)  # alongside the attempt that is killed: one start-up less to wait for
    try:
        killed = _prepare(tmp_path / "killed", spec)
        _kill_after_epoch(killed, engine)
    finally:
        assert _finish(uninterrupted) == 0, _log(plain)
    saved = _pointer_epoch(killed)
    assert _finish(_start(killed, engine)) == 0, _log(killed)
    _assert_same_run(killed, plain)
    result = store.read_result(killed)
    # the pointer holds the last completed epoch's 0-based index; result.json numbers epochs from 1
    assert result["resumed_from_epoch"] == saved + 2 and result["resumes"] == 1
    assert store.read_result(plain)["resumed_from_epoch"] is None and store.read_result(plain)["resumes"] == 0
    assert not (killed / RESUME_DIR).exists() and not (plain / RESUME_DIR).exists()  # deleted once completed
    return result, store.read_result(plain)


@pytest.mark.slow
@_needs("torch")
def test_torch_run_killed_after_an_epoch_resumes_to_the_same_result(tmp_path: Path) -> None:
    result, plain = _resume_case(tmp_path, _spec("torch", None, epochs=10), None)
    epochs = result["metrics"]["epochs_run"]
    assert result["timing"]["train_seconds"] > 0 and epochs == plain["metrics"]["epochs_run"] == 10


@pytest.mark.slow
@_needs("keras", "tensorflow")
def test_keras_tensorflow_run_killed_after_an_epoch_resumes_to_the_same_result(tmp_path: Path) -> None:
    _resume_case(tmp_path, _spec("keras", "tensorflow", epochs=5), "tensorflow")


@pytest.mark.slow
@_needs("keras", "jax")
def test_keras_jax_run_killed_after_an_epoch_resumes_to_the_same_result(tmp_path: Path) -> None:
    _resume_case(tmp_path, _spec("keras", "jax", epochs=5), "jax")

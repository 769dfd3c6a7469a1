"""The worker (``python -m suite.execution.worker``) records diverged and timed-out runs with their own exit
statuses, ignores SIGINT and dies with its executor (the plain-numpy ``centroid`` plugin backend: no framework to
import)."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from suite import store
from suite.execution.worker import DIVERGED_EXIT_STATUS, PRUNED_EXIT_STATUS, TIMEOUT_EXIT_STATUS
from suite.lifeline import PARENT_PID_ENV
from suite.spec.models import ExperimentSpec
from suite.spec.serialize import run_id, spec_to_toml
from suite.training.resume import RESUME_DIR

ROOT = Path(__file__).resolve().parents[3]
WAIT_SECONDS = 120


def _run_dir(directory: Path, lr: float = 0.5, epochs: int = 3, **training: Any) -> Path:
    spec = ExperimentSpec.model_validate(
        {
            "name": "w",
            "backend": "centroid",
            "dataset": {"source": "digits", "normalization": "unit"},
            "model": {"name": "mlp2"},
            "optimizer": {"name": "sgd", "lr": lr},
            "training": {"epochs": epochs, "batch_size": 64, **training},
        }
    )
    directory.mkdir(parents=True)
    store.write_text(directory / store.SPEC_FILE, spec_to_toml(spec))
    store.write_json(directory / store.RESULT_FILE, {"run_id": run_id(spec), "status": "running", "error": None})
    return directory


def _start(directory: Path, **env: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "suite.execution.worker", str(directory)],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def _finish(process: subprocess.Popen) -> tuple[int, str]:
    try:
        output, _ = process.communicate(timeout=WAIT_SECONDS)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return process.returncode, output.decode(errors="replace")


def _history_rows(directory: Path) -> list[dict[str, str]]:
    with (directory / store.HISTORY_FILE).open() as handle:
        return list(csv.DictReader(handle))


def test_a_diverging_run_is_recorded_as_diverged(plugin_path: Path, tmp_path: Path) -> None:
    directory = _run_dir(tmp_path / "run", lr=1e6)
    code, output = _finish(_start(directory))
    result = store.read_result(directory)
    assert code == DIVERGED_EXIT_STATUS, output
    assert result["status"] == "diverged" and result["diverged_at_epoch"] == 1
    assert result["error"].startswith("non-finite training loss at epoch 1, batch ")
    assert result["error"].endswith("(lr 1e+06)")
    assert (result["resumed_from_epoch"], result["resumes"], result["epochs_completed"]) == (None, 0, 0)
    assert result["run_id"] and result["started_at"] and result["finished_at"]  # the header is kept
    assert _history_rows(directory) == [] and (directory / store.HISTORY_FILE).read_text().startswith("epoch,")
    assert not (directory / RESUME_DIR).exists()


def test_a_run_past_its_time_limit_is_recorded_as_timeout(plugin_path: Path, tmp_path: Path) -> None:
    directory = _run_dir(tmp_path / "run", time_limit=0.001)
    code, output = _finish(_start(directory))
    result = store.read_result(directory)
    assert code == TIMEOUT_EXIT_STATUS, output
    assert result["status"] == "timeout" and result["timeout_at_epoch"] == 1 and result["epochs_completed"] == 0
    assert result["error"].startswith("training.time_limit of 0.001 s reached at epoch 1, batch 1 (")
    assert _history_rows(directory) == []


def test_sigint_does_not_stop_the_worker(plugin_path: Path, tmp_path: Path) -> None:
    directory = _run_dir(tmp_path / "run", epochs=30)
    process = _start(directory)
    deadline = time.monotonic() + WAIT_SECONDS
    while not (directory / "plan.json").exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    process.send_signal(signal.SIGINT)
    code, output = _finish(process)
    assert code == 0, output
    assert store.read_result(directory)["status"] == "completed" and len(_history_rows(directory)) == 30


def test_the_worker_dies_when_its_executor_is_gone(plugin_path: Path, tmp_path: Path) -> None:
    directory = _run_dir(tmp_path / "run")
    code, output = _finish(_start(directory, **{PARENT_PID_ENV: "1"}))  # pid 1 is not the worker's parent
    assert code == -signal.SIGKILL, output
    assert "parent process is gone" in output and store.read_result(directory)["status"] == "running"


def _trial_dir(directory: Path, lr: float) -> Path:
    """A trial run of a median-pruned study whose one finished trial reached 99% validation accuracy at every epoch."""
    pytest.importorskip("optuna")
    from suite.tuning.space import TuneSpec
    from suite.tuning.studies import open_study, storage_url

    tune = TuneSpec.model_validate(
        {"trials": 2, "pruner": "median", "pruner_startup_trials": 1, "space": {"lr": {"log_uniform": [1e-6, 1.0]}}}
    )
    study = open_study(storage_url(directory.parent), "w", tune)
    finished = study.ask()
    for epoch in range(3):
        finished.report(0.99, epoch)
    study.tell(finished, 0.99)
    trial = study.ask()
    _run_dir(directory, lr=lr)
    entry = {"number": 1, "id": trial._trial_id, "study": "w", "storage": storage_url(directory.parent)}
    header = store.read_result(directory)
    store.write_json(directory / store.RESULT_FILE, {**header, "trial": {**entry, "tune": tune.model_dump()}})
    return directory


def test_a_trial_far_below_the_median_is_recorded_as_pruned(plugin_path: Path, tmp_path: Path) -> None:
    directory = _trial_dir(tmp_path / "run", lr=1e-6)
    code, output = _finish(_start(directory))
    result = store.read_result(directory)
    assert code == PRUNED_EXIT_STATUS, output
    assert result["status"] == "pruned" and result["pruned_at_epoch"] == 1 and result["epochs_completed"] == 1
    assert result["error"].startswith("pruned at epoch 1: val_accuracy ")
    assert len(_history_rows(directory)) == 1 and not (directory / RESUME_DIR).exists()
    assert not (directory / store.PREDICTIONS_FILE).exists()

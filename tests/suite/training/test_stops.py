"""Diverged and timed-out runs stop at once with the epoch and the history so far (plain-numpy backend)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from resumable_backend import (  # noqa: F401 - numpy_backend_registered is an autouse fixture
    ResumableRunner,
    ResumableSession,
    numpy_backend_registered,
    prepared,
    run_in,
)

from suite.spec.models import ExperimentSpec
from suite.training.stops import Deadline, RunStopped


def _spec(lr: float = 0.5, epochs: int = 3) -> ExperimentSpec:
    return ExperimentSpec.model_validate(
        {
            "name": "t",
            "backend": "numpy",
            "dataset": {"source": "digits"},
            "model": {"name": "mlp2"},
            "optimizer": {"name": "sgd", "lr": lr},
            "training": {"epochs": epochs, "batch_size": 64},
        }
    )


def test_a_huge_learning_rate_stops_the_run_as_diverged(tmp_path: Path) -> None:
    with pytest.warns(RuntimeWarning), pytest.raises(RunStopped) as stopped:
        run_in(prepared(tmp_path, _spec(lr=1e6)), _spec(lr=1e6))
    stop = stopped.value
    assert stop.status == "diverged" and stop.epoch == 0 and stop.history == []
    assert stop.message.startswith("non-finite training loss at epoch 1, batch ")
    assert stop.message.endswith("(lr 1e+06)")
    assert stop.resumed_from_epoch is None and stop.resumes == 0


class _NanAfterFirstEpoch(ResumableSession):
    """Predicts NaN from the second validation pass on (training losses stay finite)."""

    def predict(self, inputs: np.ndarray) -> np.ndarray:
        logits = super().predict(inputs)
        validations = sum(1 for call in self.calls if call[0] == "set_learning_rates")
        return np.full_like(logits, np.nan) if validations >= 2 else logits


def test_non_finite_validation_logits_stop_the_run_with_the_epochs_before(tmp_path: Path) -> None:
    runner = ResumableRunner()
    runner.open_session = _opening(runner, _NanAfterFirstEpoch)
    with pytest.raises(RunStopped) as stopped:
        run_in(prepared(tmp_path, _spec()), _spec(), runner)
    assert stopped.value.status == "diverged" and stopped.value.epoch == 1
    assert stopped.value.message == "non-finite validation logits at epoch 2 (lr 0.5)"
    assert [row["epoch"] for row in stopped.value.history] == [0]


class _NanWeights(ResumableSession):
    def weights_finite(self) -> bool:
        return False


def test_non_finite_weights_stop_the_run(tmp_path: Path) -> None:
    runner = ResumableRunner()
    runner.open_session = _opening(runner, _NanWeights)
    with pytest.raises(RunStopped, match=r"^non-finite weights at epoch 1 \(lr 0.5\)$"):
        run_in(prepared(tmp_path, _spec()), _spec(), runner)


def test_time_limit_stops_the_run_as_timeout_after_the_first_batch(tmp_path: Path) -> None:
    deadline = Deadline(0.5, started=time.monotonic() - 1.0)
    with pytest.raises(RunStopped) as stopped:
        run_in(prepared(tmp_path, _spec()), _spec(), deadline=deadline)
    assert stopped.value.status == "timeout" and stopped.value.epoch == 0 and stopped.value.history == []
    assert stopped.value.message.startswith("training.time_limit of 0.5 s reached at epoch 1, batch 1 (")


def test_time_limit_keeps_the_epochs_finished_before_it(tmp_path: Path) -> None:
    calls = iter(range(10_000))

    class _Slow(Deadline):
        def check(self, epoch: int, batch: int) -> None:  # times out on the first batch of epoch 2
            next(calls)
            if epoch == 2:
                self.started = time.monotonic() - 10.0
            super().check(epoch, batch)

    with pytest.raises(RunStopped) as stopped:
        run_in(prepared(tmp_path, _spec()), _spec(), deadline=_Slow(5.0))
    assert stopped.value.epoch == 2 and [row["epoch"] for row in stopped.value.history] == [0, 1]


def _opening(runner: ResumableRunner, session_class: type[ResumableSession]):
    """``runner.open_session`` replaced by one that opens ``session_class``."""
    original = runner.open_session

    def open_session(*args, **kwargs) -> ResumableSession:
        plain = original(*args, **kwargs)
        runner.session = session_class(plain.weights, plain.names)
        return runner.session

    return open_session

"""A trial in the worker: the test split is sealed and never read, the pruner stops a lagging trial."""

from __future__ import annotations

from pathlib import Path

import pytest
from builders import digits_bundle, make_spec
from numpy_backend import NumpyRunner
from resumable_backend import numpy_backend_registered  # noqa: F401 - an autouse fixture

from suite.runners.progress import NullProgress
from suite.spec.models import ExperimentSpec
from suite.store import statuses
from suite.training.run import execute
from suite.training.stops import RunStopped
from suite.tuning.space import TuneSpec
from suite.tuning.studies import open_study, storage_url
from suite.tuning.trial_run import EpochReporter, SealedSplitRead, seal_test_split

optuna = pytest.importorskip("optuna")


def _spec() -> ExperimentSpec:
    """The digits ``mlp2`` of the numpy backend, two epochs."""
    torch_like = make_spec({"name": "mlp2"}, optimizer={"name": "sgd", "lr": 0.5}).model_dump()
    return ExperimentSpec.model_validate({**torch_like, "backend": "numpy"})


def test_a_trial_trains_and_validates_without_reading_the_test_split(tmp_path: Path) -> None:
    sealed = seal_test_split(digits_bundle())
    heard = []
    output = execute(
        _spec(), NumpyRunner(), sealed, tmp_path, NullProgress(), on_epoch=lambda e, row: heard.append(e), test=False
    )
    assert heard == [0, 1] and len(output.history) == 2 and output.history[-1]["val_accuracy"] > 0.5
    assert output.test_labels.size == 0 and "parity_probe" not in output.extra
    with pytest.raises(SealedSplitRead):  # the seal holds: a tested run on the same bundle fails
        execute(_spec(), NumpyRunner(), sealed, tmp_path / "tested", NullProgress())


def _tuned_study(tmp_path: Path, pruner: str = "median"):
    tune = TuneSpec.model_validate(
        {"trials": 3, "pruner": pruner, "pruner_startup_trials": 1, "space": {"lr": {"uniform": [0.1, 1.0]}}}
    )
    study = open_study(storage_url(tmp_path), "c", tune)
    done = study.ask()
    for epoch, value in enumerate([0.80, 0.90]):
        done.report(value, epoch)
    study.tell(done, 0.90)
    trial = study.ask()
    entry = {"study": "c", "storage": storage_url(tmp_path), "id": trial._trial_id, "tune": tune.model_dump()}
    return study, trial, entry


def test_the_pruner_stops_a_trial_far_below_the_median(tmp_path: Path) -> None:
    _, _, entry = _tuned_study(tmp_path)
    reporter = EpochReporter(entry)
    with pytest.raises(RunStopped) as stopped:
        reporter(0, {"val_accuracy": 0.12, "val_loss": 2.2})
    assert stopped.value.status == statuses.PRUNED and stopped.value.epoch == 0
    assert "val_accuracy 0.12" in stopped.value.message


def test_a_trial_level_with_the_others_goes_on(tmp_path: Path) -> None:
    study, trial, entry = _tuned_study(tmp_path)
    reporter = EpochReporter(entry)
    reporter(0, {"val_accuracy": 0.85})
    reporter(1, {"val_accuracy": 0.95})
    assert study.trials[trial.number].intermediate_values == {0: 0.85, 1: 0.95}


def test_without_a_pruner_nothing_is_pruned(tmp_path: Path) -> None:
    _, _, entry = _tuned_study(tmp_path, pruner="none")
    EpochReporter(entry)(0, {"val_accuracy": 0.01})

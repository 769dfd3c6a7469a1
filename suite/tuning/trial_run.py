"""What a worker does differently when its run is a tuning trial (result.json's ``trial`` entry says so).

The test split is sealed (any read raises :class:`SealedSplitRead`), the pruner hears every epoch's objective
through the loop's ``on_epoch`` and may stop the run as ``pruned``, and the stored result holds the validation
objective instead of test metrics. Runs in the worker process.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from suite.data.bundle import DataBundle
from suite.runners.protocol import epoch_number
from suite.store import statuses
from suite.training.stops import RunStopped
from suite.tuning.space import OBJECTIVES


class SealedSplitRead(RuntimeError):
    """Something read the test split during tuning."""


class SealedSplit:
    """Stands in for the test split of a trial: its images, labels and length cannot be read."""

    def __getattr__(self, name: str) -> Any:
        raise SealedSplitRead(f"the test split was read ({name}) during tuning; trials see train and val only")

    def __len__(self) -> int:
        raise SealedSplitRead("the test split was read (len) during tuning; trials see train and val only")


def seal_test_split(data: DataBundle) -> DataBundle:
    """``data`` with the test split (and its sample ids) replaced by a :class:`SealedSplit`."""
    ids = {split: value for split, value in data.sample_ids.items() if split != "test"}
    return dataclasses.replace(data, test=SealedSplit(), sample_ids=ids)


class EpochReporter:
    """The loop's ``on_epoch`` for a trial: reports the objective to the trial's Optuna study, raises ``pruned``."""

    def __init__(self, trial: dict[str, Any]) -> None:
        import optuna

        from suite.tuning.studies import make_pruner

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        study = optuna.load_study(
            study_name=trial["study"], storage=trial["storage"], pruner=make_pruner(trial["tune"])
        )
        self.trial = optuna.trial.Trial(study, int(trial["id"]))
        self.objective = str(trial["tune"]["objective"])

    def __call__(self, epoch: int, row: dict[str, float]) -> None:
        """Report ``row``'s objective at ``epoch``; raise RunStopped(pruned) when the pruner says so."""
        value = float(row[self.objective])
        self.trial.report(value, epoch)
        if self.trial.should_prune():
            below = f"{self.objective} {value:.4g} is below the other trials at this epoch"
            message = f"pruned at epoch {epoch_number(epoch)}: {below}"
            raise RunStopped(statuses.PRUNED, epoch, message)


def trial_payload(measured: dict[str, Any], output: Any, objective: str) -> dict[str, Any]:
    """result.json's measured part for a trial: ``measured`` (no test figures) plus its ``objective`` entry."""
    return {**measured, "objective": objective_value(output.history, output.best_epoch, objective)}


def objective_value(history: list[dict[str, Any]], best_epoch: int, objective: str) -> dict[str, Any]:
    """The trial's value: the objective at the epoch whose weights the run ends with (the best, with early stopping)."""
    by_epoch = {int(row["epoch"]): row for row in history}
    row = by_epoch.get(best_epoch, history[-1])
    value = float(row[objective])
    return {"name": objective, "direction": OBJECTIVES[objective], "value": value, "epoch": int(row["epoch"])}

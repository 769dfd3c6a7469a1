"""Tune one configuration through the executor: trials one after another in one slot, then the final runs.

A trial is an ordinary run (stored under ``OUT/trials/<run_id>``, claimed, resumable, tracked) whose result.json
carries a ``trial`` entry; its worker seals the test split and asks the pruner after every epoch. A rerun first
finishes the trials an interrupted executor left running (same values, so the same run resumes), then asks for
the rest of the budget. The best completed trial's values are then run on every seed of the study, under
``OUT/runs`` with a ``tuned`` entry: those runs are what the report compares. Runs in the ``suite`` process.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from filelock import FileLock

from suite import store
from suite.execution.executor import RUNNING_ELSEWHERE, SKIPPED, RunRecord, config_name
from suite.spec.models import ExperimentSpec
from suite.spec.serialize import run_id
from suite.store import statuses
from suite.tuning.space import TuneSpec
from suite.tuning.specs import final_specs, trial_spec
from suite.tuning.studies import distributions, open_storage, open_study, sampler_for, storage_url
from suite.tuning.summary import configuration_summary, write_configuration

LOCKS_DIR = "tuning-locks"
Execute = Callable[..., RunRecord]
"""Run one spec in the caller's slot: ``execute(spec, extra=<more result.json fields>, directory=<run dir or None>)``
(None: ``OUT/runs/<run_id>``)."""


@dataclass(frozen=True)
class TunedConfiguration:
    """One configuration to tune: its name, its runs on the study's seeds and its ``tune`` section."""

    config: str
    runs: list[ExperimentSpec]
    tune: TuneSpec

    @property
    def seed(self) -> int:
        """The sampler's seed: the configuration's first seed, alike for every backend."""
        return self.runs[0].seed


def work_units(runs: Sequence[ExperimentSpec], tune: dict[str, TuneSpec]) -> list[ExperimentSpec | TunedConfiguration]:
    """The study's runs with each tuned configuration's runs gathered into one unit, in first-seen order."""
    units: list[ExperimentSpec | TunedConfiguration] = []
    grouped: dict[str, list[ExperimentSpec]] = {}
    for spec in runs:
        config = config_name(spec.name)
        if config not in tune:
            units.append(spec)
        elif config in grouped:
            grouped[config].append(spec)
        else:
            grouped[config] = [spec]
            units.append(TunedConfiguration(config, grouped[config], tune[config]))
    return units


def planned_runs(runs: Sequence[ExperimentSpec], tune: dict[str, TuneSpec]) -> int:
    """How many runs the study executes: untuned runs, plus per tuned configuration its trials and final runs."""
    units = work_units(runs, tune)
    return sum(1 if isinstance(unit, ExperimentSpec) else unit.tune.trials + len(unit.runs) for unit in units)


def prepare_storage(out_dir: Path) -> None:
    """Create ``OUT/tuning.db`` and its tables once, before configurations are tuned side by side."""
    out_dir.mkdir(parents=True, exist_ok=True)
    open_storage(storage_url(out_dir))


def tune_configuration(unit: TunedConfiguration, out_dir: Path, execute: Execute, stopped: Callable[[], bool]) -> list:
    """Run ``unit``'s remaining trials, then its final runs; returns their records (stops early when ``stopped``)."""
    (out_dir / LOCKS_DIR).mkdir(parents=True, exist_ok=True)
    with FileLock(str(out_dir / LOCKS_DIR / f"{run_id(unit.runs[0])}.lock")):
        study = open_study(storage_url(out_dir), unit.config, unit.tune)
        records: list[RunRecord] = []
        while not stopped():
            trial = _next_trial(study, unit)
            if trial is None:
                break
            record = _run_trial(study, trial, unit, out_dir, execute)
            if record is not None:
                records.append(record)
                if record.status in (statuses.INTERRUPTED, RUNNING_ELSEWHERE):
                    return records  # the trial stays running in Optuna: the next executor finishes it
            _write_summary(study, unit, out_dir)
        best = _write_summary(study, unit, out_dir)["best"]
        if best is None or stopped():
            return records
        tuned = {"config": unit.config, "trial": best["number"], "values": best["values"]}
        tuned["objective"] = {"name": unit.tune.objective, "value": best["value"]}
        for spec in final_specs(unit.runs, best["values"]):
            if stopped():
                break
            records.append(execute(spec, extra={"tuned": tuned}, directory=None))
        return records


def _next_trial(study: Any, unit: TunedConfiguration) -> Any:
    """A trial left running by an interrupted executor, else a new one while the budget lasts, else None."""
    from optuna.trial import TrialState

    trials = study.get_trials(deepcopy=False)
    orphans = [trial for trial in trials if trial.state == TrialState.RUNNING]
    if orphans:
        return orphans[0]
    if len(trials) >= unit.tune.trials:
        return None
    study.sampler = sampler_for(unit.tune, unit.seed, len(trials))
    return study.ask(distributions(unit.tune.space))


def _run_trial(study: Any, trial: Any, unit: TunedConfiguration, out_dir: Path, execute: Execute) -> RunRecord | None:
    """Run ``trial`` and tell Optuna its outcome (a value, pruned or failed); None when its values make no run."""
    from optuna.trial import TrialState

    number, values = trial.number, dict(trial.params)
    try:
        spec = trial_spec(unit.runs[0], unit.config, number, values)
    except ValueError as exc:
        study._storage.set_trial_user_attr(trial._trial_id, "error", str(exc))
        study.tell(number, state=TrialState.FAIL)
        return None
    entry = {
        "number": number,
        "id": trial._trial_id,  # Optuna's storage id: the worker reopens this trial to report its epochs
        "study": unit.config,
        "storage": storage_url(out_dir),
        "tune": unit.tune.model_dump(mode="json"),
    }
    record = execute(spec, extra={"trial": entry}, directory=out_dir / store.TRIALS_DIR / run_id(spec))
    if record.status not in (statuses.INTERRUPTED, RUNNING_ELSEWHERE):
        _tell(study, number, record)
    return record


def _tell(study: Any, number: int, record: RunRecord) -> None:
    """Completed: the stored objective value; pruned: pruned; anything else: failed (the budget is spent)."""
    from optuna.trial import TrialState

    if record.status in (statuses.COMPLETED, SKIPPED):
        value = ((store.read_result(record.directory) or {}).get("objective") or {}).get("value")
        if isinstance(value, (int, float)):
            study.tell(number, float(value))
            return
    state = TrialState.PRUNED if record.status == statuses.PRUNED else TrialState.FAIL
    study.tell(number, state=state)


def _write_summary(study: Any, unit: TunedConfiguration, out_dir: Path) -> dict[str, Any]:
    """Refresh the configuration's entry in ``OUT/tuning.json``; returns it."""
    trials = [
        {
            "number": trial.number,
            "state": trial.state.name,
            "value": trial.value,
            "values": dict(trial.params),
            "error": trial.user_attrs.get("error"),
        }
        for trial in study.get_trials(deepcopy=False)
    ]
    entry = configuration_summary(unit.config, unit.tune, trials)
    write_configuration(out_dir, entry)
    return entry

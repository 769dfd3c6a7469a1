"""Gather the stored results of study directories: the runs that read cleanly, and the damage that did not.

Every file is read through :mod:`suite.store`, so the report and the executor agree on what a whole run
is. A damaged file never stops a report: its run is left out of every table and listed with the file
and the problem. Nothing here trains or imports a framework.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from suite import store
from suite.store import statuses
from suite.store.run_status import observed_status


@dataclass
class RunRecord:
    """One stored run: its result.json content, its honest status and where it came from."""

    result: dict[str, Any]
    run_dir: Path
    study_dir: Path
    study: dict[str, Any] = field(default_factory=dict)
    key: str = ""
    status: str = ""

    def __post_init__(self) -> None:
        self.status = self.status or str(self.result.get("status") or statuses.RUNNING)

    @property
    def completed(self) -> bool:
        """True when the run finished, wrote metrics and its files are whole."""
        return self.status == statuses.COMPLETED

    def history(self) -> pd.DataFrame | None:
        """The per-epoch history table, or None when the run has none that reads cleanly."""
        return read_history(self.run_dir)

    def predictions(self) -> tuple[np.ndarray, np.ndarray] | None:
        """(labels, scores) of the test split, or None when missing or damaged."""
        return read_predictions(self.run_dir)


@dataclass(frozen=True)
class Damage:
    """A stored file that could not be used: where it is and what is wrong with it."""

    study_dir: Path
    path: Path
    problem: str
    name: str = ""

    @property
    def line(self) -> str:
        """One line naming the file and the problem."""
        return f"{self.path}: {self.problem}"


@dataclass
class StoredStudies:
    """What :func:`load_store` found: every readable run, the damage, and each directory's study.json."""

    records: list[RunRecord]
    damaged: list[Damage]
    studies: list[dict[str, Any]]


def find_run_dirs(study_dir: Path) -> list[Path]:
    """Run directories of a study: ``runs/*``, or the directory itself when it is one run (never ``trials/*``)."""
    study_dir = Path(study_dir)
    if not study_dir.is_dir():
        raise FileNotFoundError(f"no such results directory: {study_dir}")
    if (study_dir / store.RESULT_FILE).is_file():
        return [study_dir]
    runs = study_dir / store.RUNS_DIR
    if runs.is_dir():
        return sorted(path for path in runs.iterdir() if path.is_dir())
    found = study_dir.rglob(store.RESULT_FILE)  # a tuned study's trials are not compared runs
    return sorted(path.parent for path in found if store.TRIALS_DIR not in path.relative_to(study_dir).parts[:-2])


def study_name(study: dict[str, Any], study_dir: Path) -> str:
    """Name of a study: ``study.json``'s ``study`` (or ``name``) field, else the directory name."""
    return str(study.get("study") or study.get("name") or Path(study_dir).name)


def read_history(run_dir: Path) -> pd.DataFrame | None:
    """``history.csv`` as a DataFrame sorted by epoch (numbers as numbers), or None when absent or damaged."""
    try:
        rows = store.load_history(Path(run_dir))
    except store.StoreError:
        return None
    history = pd.DataFrame(rows).replace("", np.nan)
    for column in history.columns:
        try:
            history[column] = pd.to_numeric(history[column])
        except (TypeError, ValueError):
            pass  # a text column (e.g. batch fingerprints)
    return history.sort_values("epoch").reset_index(drop=True)


def read_predictions(run_dir: Path) -> tuple[np.ndarray, np.ndarray] | None:
    """(labels, scores) from ``predictions.npz``, or None when absent or damaged."""
    try:
        predictions = store.load_predictions(Path(run_dir))
    except store.StoreError:
        return None
    return predictions.labels, predictions.scores


def load_store(study_dirs: list[Path]) -> StoredStudies:
    """Every run of every study directory, in a stable order, with each damaged file listed once."""
    records: list[RunRecord] = []
    damaged: list[Damage] = []
    studies: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for study_dir in map(Path, study_dirs):
        try:
            study = store.load_study(study_dir)
        except store.StoreError as exc:
            damaged.append(Damage(study_dir, exc.path, exc.problem))
            study = {}
        studies.append(study)
        for run_dir in find_run_dirs(study_dir):
            result = _read_run(run_dir, study_dir, damaged)
            if result is not None:
                key = _unique_key(str(result.get("run_id") or run_dir.name), seen)
                records.append(RunRecord(result, run_dir, study_dir, study, key, observed_status(run_dir, result)))
    return StoredStudies(records, damaged, studies)


def load_runs(study_dirs: list[Path]) -> list[RunRecord]:
    """Every run that reads cleanly (whatever its status) of every study directory, in a stable order."""
    return load_store(study_dirs).records


def _read_run(run_dir: Path, study_dir: Path, damaged: list[Damage]) -> dict[str, Any] | None:
    """The run's result, or None after noting its damage (a completed run must have all its files)."""
    if not (run_dir / store.RESULT_FILE).exists():
        return _result_from_spec(run_dir)
    try:
        result = store.load_result(run_dir)
        if result["status"] == statuses.COMPLETED:
            store.check_outputs(run_dir)
    except store.StoreError as exc:
        damaged.append(Damage(study_dir, exc.path, exc.problem, _run_name(run_dir)))
        return None
    return result


def _result_from_spec(run_dir: Path) -> dict[str, Any]:
    """A run directory without result.json: started, never finished (its status is running or interrupted)."""
    spec = _spec_or_empty(run_dir)
    return {
        "run_id": run_dir.name,
        "name": spec.get("name", run_dir.name),
        "status": statuses.RUNNING,
        "error": f"{store.RESULT_FILE} missing: the run did not finish",
        "backend": spec.get("backend"),
        "engine": spec.get("engine") or spec.get("keras_backend"),
        "seed": spec.get("seed"),
        "model": (spec.get("model") or {}).get("name"),
        "spec": spec,
    }


def _run_name(run_dir: Path) -> str:
    return str(_spec_or_empty(run_dir).get("name") or "")


def _spec_or_empty(run_dir: Path) -> dict[str, Any]:
    try:
        return store.load_spec(run_dir)
    except store.StoreError:
        return {}


def _unique_key(run_id: str, seen: dict[str, int]) -> str:
    count = seen.get(run_id, 0)
    seen[run_id] = count + 1
    return run_id if count == 0 else f"{run_id}-{count}"

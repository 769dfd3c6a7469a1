"""Read stored results: study directories, run directories and the files inside them.

The executor writes ``OUT/runs/<run_id>/{spec.toml,result.json,history.csv,predictions.npz}`` and
``OUT/study.json``. This module only reads them; nothing here trains or imports a framework.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

RESULT_FILE = "result.json"
HISTORY_FILE = "history.csv"
PREDICTIONS_FILE = "predictions.npz"
SPEC_FILE = "spec.toml"
STUDY_FILE = "study.json"


@dataclass
class RunRecord:
    """One stored run: its result.json content plus where it came from."""

    result: dict[str, Any]
    run_dir: Path
    study_dir: Path
    study: dict[str, Any] = field(default_factory=dict)
    key: str = ""

    @property
    def completed(self) -> bool:
        """True when the run finished and wrote metrics."""
        return self.result.get("status") == "completed"

    def history(self) -> pd.DataFrame | None:
        """The per-epoch history table, or None when the run wrote none."""
        return read_history(self.run_dir)

    def predictions(self) -> tuple[np.ndarray, np.ndarray] | None:
        """(labels, scores) of the test split, or None when missing."""
        return read_predictions(self.run_dir)


def find_run_dirs(study_dir: Path) -> list[Path]:
    """Run directories of a study: ``runs/*``, or the directory itself when it is one run."""
    study_dir = Path(study_dir)
    if not study_dir.is_dir():
        raise FileNotFoundError(f"no such results directory: {study_dir}")
    if (study_dir / RESULT_FILE).is_file():
        return [study_dir]
    runs = study_dir / "runs"
    if runs.is_dir():
        return sorted(path for path in runs.iterdir() if path.is_dir())
    return sorted(path.parent for path in study_dir.rglob(RESULT_FILE))


def read_study(study_dir: Path) -> dict[str, Any]:
    """Contents of ``study.json`` (empty dict when absent)."""
    path = Path(study_dir) / STUDY_FILE
    if not path.is_file():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))


def study_name(study: dict[str, Any], study_dir: Path) -> str:
    """Name of a study: ``study.json``'s ``study`` (or ``name``) field, else the directory name."""
    return str(study.get("study") or study.get("name") or Path(study_dir).name)


def read_result(run_dir: Path) -> dict[str, Any]:
    """``result.json`` of a run; a run directory without one reads as a failed run."""
    path = Path(run_dir) / RESULT_FILE
    if path.is_file():
        return json.loads(path.read_text(encoding="utf-8"))
    spec = _read_spec(run_dir)
    return {
        "run_id": Path(run_dir).name,
        "name": spec.get("name", Path(run_dir).name),
        "status": "failed",
        "error": f"{RESULT_FILE} missing: the run did not finish",
        "backend": spec.get("backend"),
        "engine": spec.get("engine") or spec.get("keras_backend"),
        "seed": spec.get("seed"),
        "model": spec.get("model", {}).get("name"),
        "spec": spec,
    }


def read_history(run_dir: Path) -> pd.DataFrame | None:
    """``history.csv`` as a DataFrame sorted by epoch, or None when absent or empty."""
    path = Path(run_dir) / HISTORY_FILE
    if not path.is_file() or path.stat().st_size == 0:
        return None
    history = pd.read_csv(path)
    if history.empty or "epoch" not in history:
        return None
    return history.sort_values("epoch").reset_index(drop=True)


def read_predictions(run_dir: Path) -> tuple[np.ndarray, np.ndarray] | None:
    """(labels, scores) from ``predictions.npz``, or None when absent."""
    path = Path(run_dir) / PREDICTIONS_FILE
    if not path.is_file():
        return None
    with np.load(path) as arrays:
        return np.asarray(arrays["labels"]), np.asarray(arrays["scores"])


def load_runs(study_dirs: list[Path]) -> list[RunRecord]:
    """Every run (completed and failed) of every study directory, in a stable order."""
    records: list[RunRecord] = []
    seen: dict[str, int] = {}
    for study_dir in study_dirs:
        study_dir = Path(study_dir)
        study = read_study(study_dir)
        for run_dir in find_run_dirs(study_dir):
            result = read_result(run_dir)
            key = _unique_key(str(result.get("run_id") or run_dir.name), seen)
            records.append(RunRecord(result=result, run_dir=run_dir, study_dir=study_dir, study=study, key=key))
    return records


def _unique_key(run_id: str, seen: dict[str, int]) -> str:
    count = seen.get(run_id, 0)
    seen[run_id] = count + 1
    return run_id if count == 0 else f"{run_id}-{count}"


def _read_spec(run_dir: Path) -> dict[str, Any]:
    path = Path(run_dir) / SPEC_FILE
    if not path.is_file():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError:
        return {}

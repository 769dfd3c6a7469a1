"""Track a study's stored runs: after each run (the executor) or all at once (``suite export``)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from suite import store
from suite.tracking.mlflow_sink import MlflowSink, resolve_mlflow_uri
from suite.tracking.stored import read_stored_run
from suite.tracking.tensorboard_links import link_run


class StudyTracker:
    """Names each run's TensorBoard logs by run name and, given an MLflow URI, logs each run to MLflow.

    Creating it with a URI opens the MLflow store at once (raising TrackingUnavailableError with one
    line when MLflow is missing or the store unusable), so a study never trains first and fails later.
    """

    def __init__(self, out_dir: Path, study: str, mlflow: str | None = None) -> None:
        self.out_dir = out_dir
        self.study = study
        self.mlflow = MlflowSink(resolve_mlflow_uri(mlflow, out_dir), study) if mlflow else None
        self.outcomes: Counter[str] = Counter()
        self.problems: list[str] = []

    def track(self, directory: Path) -> str | None:
        """Link and log the run stored in ``directory``; returns a line worth showing, or None. Never raises."""
        try:
            run = read_stored_run(directory)
        except store.StoreError as exc:  # a damaged run is skipped with its one line
            self.problems.append(f"skipped {exc}")
            return self.problems[-1]
        if run is None:
            return None
        self.problems += [f"left out {line}" for line in run.left_out]
        try:
            link_run(self.out_dir, run.run_id, run.name)
        except OSError as exc:
            self.problems.append(f"tensorboard: cannot link {run.name}: {exc}")
            return self.problems[-1]
        if self.mlflow is None:
            return None
        try:
            outcome = self.mlflow.log(run)
        except Exception as exc:  # the results are stored; `suite export` can log them later
            self.problems.append(f"mlflow: cannot log {run.name}: {_one_line(exc)}")
            return self.problems[-1]
        self.outcomes[outcome] += 1
        return None if outcome == "unchanged" else f"mlflow: {outcome}"

    def summary(self) -> str:
        """One line: how many runs went to MLflow, and where."""
        if self.mlflow is None:
            return "no MLflow tracking"
        counts = ", ".join(f"{self.outcomes[key]} {key}" for key in ("logged", "replaced", "unchanged"))
        return f"mlflow: {counts} in experiment {self.study!r} at {self.mlflow.uri}"


def stored_run_dirs(out_dir: Path) -> list[Path]:
    """Run directories under ``OUT/runs`` with a result.json: study.json's order first, then the others."""
    runs = out_dir / store.RUNS_DIR
    ordered = list(_study_info(out_dir).get("run_ids", []))
    if runs.is_dir():
        ordered += sorted(path.name for path in runs.iterdir())
    directories = [store.run_dir(out_dir, rid) for rid in dict.fromkeys(ordered)]
    return [directory for directory in directories if (directory / store.RESULT_FILE).is_file()]


def export_study(out_dir: Path, mlflow: str) -> StudyTracker:
    """Log every stored run of the study in ``out_dir`` to MLflow (already logged, unchanged runs are skipped)."""
    directories = stored_run_dirs(out_dir)
    if not directories:
        raise FileNotFoundError(f"{out_dir}: no stored runs (expected {out_dir / store.RUNS_DIR}/<run_id>/result.json)")
    first = store.read_result(directories[0]) or {}
    study = _study_info(out_dir).get("study") or first.get("study") or out_dir.name
    tracker = StudyTracker(out_dir, study, mlflow)
    for directory in directories:
        tracker.track(directory)
    return tracker


def _study_info(out_dir: Path) -> dict:
    try:
        return store.load_study(out_dir)
    except store.StoreError:  # the run directories are still there to be found
        return {}


def _one_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__

"""One stored run (``OUT/runs/<run_id>/``) read back as tracking data: params, tags, metrics, artifacts.

Everything here comes from the files the executor and worker stored, so a tracker sees the same run
whichever backend or executor produced it. Nothing here knows about MLflow.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from suite import store
from suite.runners.protocol import tracked_name
from suite.store.confine import inside_study, outside_problem
from suite.store.run_status import observed_status

PLAN_FILE = "plan.json"
LOG_FILE = "worker.log"
TAG_PREFIX = "tlbench."
_METRIC_NAME = re.compile(r"[^\w\-. /]")
_RESULT_SECTIONS = ("metrics", "timing", "params")


@dataclass
class StoredRun:
    """What a tracker logs for one run, read from its directory."""

    directory: Path
    run_id: str
    name: str
    study: str
    status: str  # as stored: one of suite.store.statuses (a stale "running" is an interrupted run)
    error: str | None
    params: dict[str, str]
    tags: dict[str, str]
    epoch_metrics: dict[str, list[tuple[int, float]]]
    final_metrics: dict[str, float]
    artifacts: list[Path]
    started_ms: int | None
    finished_ms: int | None
    fingerprint: str
    history: list[dict[str, str]] = field(default_factory=list)
    confusion_matrix: list[list[int]] | None = None
    class_names: list[str] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)  # "<file>: <why>" for each file not read (a link outside)


def read_stored_run(directory: Path) -> StoredRun | None:
    """The run stored in ``directory``, or None when it has no ``result.json``.

    Raises :class:`suite.store.StoreError` (one line naming the file) when result.json or history.csv is damaged.
    """
    if not (directory / store.RESULT_FILE).exists():
        return None
    result = store.load_result(directory)
    result = {**result, "status": observed_status(directory, result)}  # a stale "running" is interrupted
    history = read_history(directory / store.HISTORY_FILE)
    metrics = result.get("metrics") or {}
    return StoredRun(
        directory=directory,
        run_id=str(result.get("run_id") or directory.name),
        name=str(result.get("name") or directory.name),
        study=str(result.get("study") or ""),
        status=str(result["status"]),
        error=result.get("error"),
        params=flatten(result.get("spec") or {}),
        tags=run_tags(result),
        epoch_metrics=epoch_series(history),
        final_metrics=final_metrics(result),
        artifacts=_artifacts(directory, result),
        started_ms=_millis(result.get("started_at")),
        finished_ms=_millis(result.get("finished_at")),
        fingerprint=_fingerprint(directory),
        history=history,
        confusion_matrix=metrics.get("confusion_matrix"),
        class_names=[str(name) for name in result.get("class_names") or []],
        left_out=_left_out(directory),
    )


def flatten(data: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """``{"optimizer": {"lr": 0.1}}`` -> ``{"optimizer.lr": "0.1"}``; lists and empty tables as JSON."""
    flat: dict[str, str] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat.update(flatten(value, f"{name}."))
        elif isinstance(value, (dict, list)):
            flat[name] = json.dumps(value)
        else:
            flat[name] = str(value)
    return flat


def run_tags(result: dict[str, Any]) -> dict[str, str]:
    """``tlbench.*`` tags: identity, status, backend and engine, framework versions, data fingerprint, error."""
    environment = result.get("environment") or {}
    extra = result.get("extra") or {}
    values = {
        "run_id": result.get("run_id"),
        "study": result.get("study"),
        "status": result.get("status"),
        "config_name": result.get("config_name"),
        "seed": result.get("seed"),
        "backend": result.get("backend"),
        "engine": result.get("engine"),
        "model": result.get("model"),
        "weights": result.get("weights"),
        "dataset": result.get("dataset"),
        "strategy": result.get("strategy"),
        "data_fingerprint": extra.get("data_fingerprint"),
        "device": environment.get("device"),
        "python": environment.get("python"),
        "error": result.get("error"),
        "trial": (result.get("trial") or {}).get("number"),  # a tuning trial's number
        "tuned_from_trial": (result.get("tuned") or {}).get("trial"),  # a final run: the trial whose values it uses
    }
    for framework, version in (environment.get("frameworks") or {}).items():
        values[f"framework.{framework}"] = version
    return {TAG_PREFIX + key: str(value) for key, value in values.items() if value not in (None, "")}


def read_history(path: Path) -> list[dict[str, str]]:
    """Rows of the ``history.csv`` at ``path`` as strings (empty when absent); StoreError when damaged."""
    if not path.exists():
        return []
    return store.load_history(path.parent)


def epoch_series(history: list[dict[str, str]]) -> dict[str, list[tuple[int, float]]]:
    """Every numeric history column (losses, accuracies, ``lr``, ``lr_<group>``, epoch seconds) by epoch."""
    series: dict[str, list[tuple[int, float]]] = {}
    for row in history:
        epoch = _finite(row.get("epoch"))
        if epoch is None:
            continue
        for column, text in row.items():
            value = _finite(text)
            if column != "epoch" and value is not None:
                series.setdefault(metric_name(tracked_name(column)), []).append((int(epoch), value))
    return series


def final_metrics(result: dict[str, Any]) -> dict[str, float]:
    """Scalar test metrics, history summaries, timings (``timing.*``) and parameter counts (``params.*``)."""
    flat: dict[str, float] = {}
    for section in _RESULT_SECTIONS:
        for key, value in (result.get(section) or {}).items():
            number = _finite(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
            if number is not None:
                flat[metric_name(key if section == "metrics" else f"{section}.{key}")] = number
    objective = (result.get("objective") or {}).get("value")  # a tuning trial's validation objective
    if isinstance(objective, (int, float)) and _finite(objective) is not None:
        flat["objective"] = float(objective)
    return flat


def metric_name(name: str) -> str:
    """A name MLflow accepts (letters, digits, ``_ - . /`` and spaces)."""
    return _METRIC_NAME.sub("_", name)


def _artifact_names(result: dict[str, Any]) -> list[str]:
    # not result.json: its scalars are params, tags and metrics, and a copy under OUT/mlartifacts would
    # look like one more run to anything that searches a results tree for result.json files
    names = [store.SPEC_FILE, PLAN_FILE, store.HISTORY_FILE]
    return names if result.get("status") == "completed" else [*names, LOG_FILE]


def _artifacts(directory: Path, result: dict[str, Any]) -> list[Path]:
    paths = [directory / name for name in _artifact_names(result)]
    return [path for path in paths if path.is_file() and inside_study(path)]


def _left_out(directory: Path) -> list[str]:
    """``<file>: <why>`` for each of the run's files that leads outside the study (never read, never copied)."""
    names = [store.RESULT_FILE, store.PREDICTIONS_FILE, *_artifact_names({})]
    problems = [(directory / name, outside_problem(directory / name)) for name in names if (directory / name).exists()]
    return [f"{path}: {problem}" for path, problem in problems if problem]


def _fingerprint(directory: Path) -> str:
    """Hash of result.json and history.csv: changes when the stored run changes (e.g. a rerun)."""
    digest = hashlib.sha256()
    for name in (store.RESULT_FILE, store.HISTORY_FILE):
        path = directory / name
        digest.update(path.read_bytes() if path.is_file() and inside_study(path) else b"")
    return digest.hexdigest()[:16]


def _finite(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _millis(timestamp: Any) -> int | None:
    try:
        return int(datetime.fromisoformat(str(timestamp)).timestamp() * 1000)
    except ValueError:
        return None

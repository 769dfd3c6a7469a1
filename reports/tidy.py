"""Turn stored runs into one flat, tidy row each: ids, spec parameters, metrics, timings, environment."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from reports.load import RunRecord, load_runs, study_name
from reports.uncertainty import run_intervals
from suite.spec.models import StrategySpec
from suite.store.run_status import last_error_line, status_reason
from suite.strategies import ReferenceClass, reference_class

__all__ = ["backend_label", "config_key", "last_error_line", "load_results", "runs_frame"]

ID_COLUMNS = (
    "run_id",
    "name",
    "config_name",
    "seed",
    "status",
    "error",
    "backend",
    "engine",
    "keras_backend",
    "model",
    "weights",
    "dataset",
    "strategy",
    "strategy_class",
    "study",
    "started_at",
    "finished_at",
)
NESTED_SECTIONS = ("params", "metrics", "timing", "efficiency", "environment", "spec", "extra")
# Kept in result.json for the per-run report; too wide for a tidy row.
SKIPPED_FIELDS = frozenset({"metrics.confusion_matrix", "metrics.per_class"})
# Stored as one JSON text cell (their keys differ from model to model).
JSON_FIELDS = frozenset({"params.groups"})
# Spec fields that do not change what a configuration is (the seed is the repeat index).
NON_CONFIG_SPEC_FIELDS = ("name", "seed")


def load_results(study_dirs: list[Path]) -> pd.DataFrame:
    """One tidy row per run that reads cleanly (every status) across every study directory."""
    return runs_frame(load_runs([Path(path) for path in study_dirs]))


def runs_frame(records: list[RunRecord]) -> pd.DataFrame:
    """Tidy DataFrame of ``records``; column ``key`` links a row back to its record."""
    rows = [_row(record) for record in records]
    frame = pd.DataFrame(rows)
    if frame.empty:
        return pd.DataFrame(columns=["key", *ID_COLUMNS, "backend_label", "config_key"])
    return frame


def backend_label(backend: str | None, engine: str | None) -> str:
    """``torch``, ``keras/tensorflow``: the backend together with its engine when it has one."""
    if not backend:
        return "unknown"
    return f"{backend}/{engine}" if engine else backend


def config_key(spec: dict[str, Any]) -> str:
    """Short stable hash of a spec without its name and seed: equal for repeats of one configuration."""
    trimmed = {key: value for key, value in spec.items() if key not in NON_CONFIG_SPEC_FIELDS}
    text = json.dumps(trimmed, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def _row(record: RunRecord) -> dict[str, Any]:
    result = record.result
    row: dict[str, Any] = {"key": record.key}
    for column in ID_COLUMNS:
        row[column] = result.get(column)
    row["strategy_class"] = result.get("strategy_class") or _strategy_class(result.get("spec"))
    row["status"] = record.status  # running without a live lock reads as interrupted
    row["status_reason"] = status_reason(result, record.status)
    row["name"] = row["name"] or row["run_id"] or record.run_dir.name
    row["config_name"] = row["config_name"] or row["name"]
    row["study"] = row["study"] or study_name(record.study, record.study_dir)
    row["error_line"] = last_error_line(result.get("error"))
    engine = result.get("engine") or result.get("keras_backend")  # results stored before the rename
    row["backend_label"] = backend_label(result.get("backend"), engine)
    row["config_key"] = config_key(result.get("spec") or {})
    row["study_dir"] = str(record.study_dir)
    row["run_dir"] = str(record.run_dir)
    for section in NESTED_SECTIONS:
        row.update(_flatten(result.get(section) or {}, section))
    row["acc_per_m_trainable"] = _per_million(row.get("metrics.test_accuracy"), row.get("params.trainable"))
    if record.completed:
        row.update(run_intervals(str(record.run_dir)))
    return row


def _flatten(value: dict[str, Any], prefix: str) -> dict[str, Any]:
    """Nested dicts -> dotted keys; lists and other containers become JSON text (CSV/Parquet safe)."""
    flat: dict[str, Any] = {}
    for key, item in value.items():
        name = f"{prefix}.{key}"
        if name in SKIPPED_FIELDS:
            continue
        if name in JSON_FIELDS:
            flat[name] = json.dumps(item, sort_keys=True, default=str)
        elif isinstance(item, dict) and item:
            flat.update(_flatten(item, name))
        elif isinstance(item, (dict, list, tuple)):
            flat[name] = json.dumps(item, default=str)
        else:
            flat[name] = item
    return flat


def _per_million(accuracy: Any, trainable: Any) -> float:
    """Accuracy (fraction) per million trainable parameters; NaN when either is missing or zero."""
    if accuracy is None or trainable is None or not np.isfinite(float(trainable)) or float(trainable) <= 0:
        return float("nan")
    return float(accuracy) / (float(trainable) / 1e6)


def _strategy_class(spec: Any) -> ReferenceClass | None:
    """The reference class of a result stored before runs recorded it, from its stored spec's strategy section."""
    if not isinstance(spec, dict):
        return None
    try:
        return reference_class(StrategySpec.model_validate(spec.get("strategy") or {}))
    except ValueError:
        return None

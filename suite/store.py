"""The result store: one directory per run, every file written atomically."""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

RUNS_DIR = "runs"
RESULT_FILE = "result.json"
SPEC_FILE = "spec.toml"
HISTORY_FILE = "history.csv"
PREDICTIONS_FILE = "predictions.npz"
STUDY_FILE = "study.json"


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to a temp file in the same directory, then rename it over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as temp:
            temp.write(data)
            temp.flush()
            os.fsync(temp.fileno())
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


def write_json(path: Path, payload: dict[str, Any]) -> None:
    """Atomically write pretty JSON."""
    write_atomic(path, (json.dumps(payload, indent=2, sort_keys=False, default=_json_default) + "\n").encode())


def write_text(path: Path, text: str) -> None:
    """Atomically write UTF-8 text."""
    write_atomic(path, text.encode("utf-8"))


def write_history(path: Path, history: list[dict[str, Any]]) -> None:
    """Atomically write the per-epoch history as CSV (union of keys, standard columns first)."""
    from suite.runners.protocol import HISTORY_COLUMNS

    columns = list(HISTORY_COLUMNS) + sorted({key for row in history for key in row} - set(HISTORY_COLUMNS))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(history)
    write_text(path, buffer.getvalue())


def write_predictions(path: Path, labels: np.ndarray, scores: np.ndarray, sample_ids: np.ndarray | None = None) -> None:
    """Atomically write test labels, class scores and (when known) the test samples' ids as ``.npz``."""
    buffer = io.BytesIO()
    arrays = {"labels": np.asarray(labels), "scores": np.asarray(scores, dtype=np.float32)}
    if sample_ids is not None and len(sample_ids) == len(arrays["labels"]):
        arrays["sample_ids"] = np.asarray(sample_ids)
    np.savez_compressed(buffer, **arrays)
    write_atomic(path, buffer.getvalue())


def run_dir(out_dir: Path, run_id: str) -> Path:
    """``OUT/runs/<run_id>``."""
    return out_dir / RUNS_DIR / run_id


def read_result(directory: Path) -> dict[str, Any] | None:
    """The run's result.json, or None when absent or unreadable."""
    try:
        return json.loads((directory / RESULT_FILE).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None


def is_completed(directory: Path) -> bool:
    """True when result.json exists and says ``completed`` (the run is skipped on resume)."""
    result = read_result(directory)
    return bool(result and result.get("status") == "completed")


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot serialise {type(value).__name__} to JSON")

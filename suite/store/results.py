"""The result store: one directory per run, every file written atomically and read back checked.

Layout: ``OUT/study.json`` and ``OUT/runs/<run_id>/{spec.toml,result.json,history.csv,predictions.npz}``.
Every reader here either returns the file's content or raises :class:`StoreError`, whose text is one
line naming the file and what is wrong with it; numpy files are never unpickled.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import tempfile
import tomllib
import zipfile
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from numpy.lib.npyio import NpzFile

from suite.spec.serialize import data_run_id
from suite.store import statuses
from suite.store.checks import SAMPLE_IDS, history_problem, json_kind, predictions_problem
from suite.store.confine import RUNS_DIR, outside_problem

TRIALS_DIR = "trials"
"""``OUT/trials/<run_id>``: a tuned study's trial runs (:mod:`suite.tuning`), kept apart from the compared runs."""
RESULT_FILE = "result.json"
SPEC_FILE = "spec.toml"
HISTORY_FILE = "history.csv"
PREDICTIONS_FILE = "predictions.npz"
STUDY_FILE = "study.json"


DAMAGED_SUFFIX = ".damaged-"
"""``<file>.damaged-<UTC time>``: a damaged entry moved aside for inspection before it is replaced."""


def move_aside(path: Path) -> Path:
    """Rename the damaged entry ``path`` (file, directory or link) to ``<name>.damaged-<UTC time>``; the new path."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    aside = path.with_name(f"{path.name}{DAMAGED_SUFFIX}{stamp}")
    os.rename(path, aside)
    return aside


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to a temp file in the same directory, then rename it over ``path``.

    A directory standing where the file goes is moved aside first (:func:`move_aside`); a half-written temp
    file never stays behind, whatever fails (a full disk, a read-only directory).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_dir() and not path.is_symlink():
        move_aside(path)
    handle, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as temp:
            temp.write(data)
            temp.flush()
            os.fsync(temp.fileno())
        os.replace(temp_name, path)
    except OSError as exc:
        Path(temp_name).unlink(missing_ok=True)
        raise OSError(exc.errno, exc.strerror or str(exc), str(path)) from exc  # named: the file it was writing
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
        arrays[SAMPLE_IDS] = np.asarray(sample_ids)
    np.savez_compressed(buffer, **arrays)
    write_atomic(path, buffer.getvalue())


class StoreError(ValueError):
    """A stored file that cannot be used; ``str()`` is one line naming the file and what is wrong with it."""

    def __init__(self, path: Path, problem: str) -> None:
        self.path = Path(path)
        self.problem = " ".join(problem.split())  # one line, whatever the parser said
        super().__init__(f"{path}: {self.problem}")


@dataclass(frozen=True)
class Predictions:
    """A run's test predictions: ``labels`` (N,) int64, ``scores`` (N, C) finite floats, ``sample_ids`` (N,)."""

    labels: np.ndarray
    scores: np.ndarray
    sample_ids: np.ndarray | None = None


def run_dir(out_dir: Path, run_id: str) -> Path:
    """``OUT/runs/<run_id>``."""
    return out_dir / RUNS_DIR / run_id


def load_result(directory: Path) -> dict[str, Any]:
    """The run's ``result.json``: a JSON object with a known ``status``; raises StoreError (missing too)."""
    path = directory / RESULT_FILE
    result = _load_json(path)
    if not isinstance(result, dict):
        raise StoreError(path, f"expected a JSON object, found {json_kind(result)}")
    status = result.get("status")
    if "status" not in result:
        raise StoreError(path, 'missing key "status"')
    if status not in statuses.MEANINGS:
        raise StoreError(path, f"unknown status {status!r} (expected one of {', '.join(statuses.MEANINGS)})")
    return result


def read_result(directory: Path) -> dict[str, Any] | None:
    """The run's ``result.json``, or None when it is absent or damaged (see :func:`load_result`)."""
    try:
        return load_result(directory)
    except StoreError:
        return None


def load_spec(directory: Path) -> dict[str, Any]:
    """The run's resolved ``spec.toml`` as plain data (not validated against today's spec models)."""
    path = directory / SPEC_FILE
    try:
        return tomllib.loads(_read_text(path))
    except tomllib.TOMLDecodeError as exc:
        raise StoreError(path, f"not valid TOML ({exc})") from None


def load_study(out_dir: Path) -> dict[str, Any]:
    """``OUT/study.json`` (an empty dict when absent); raises StoreError when it is damaged."""
    path = out_dir / STUDY_FILE
    if not path.exists():
        return {}
    study = _load_json(path)
    if not isinstance(study, dict):
        raise StoreError(path, f"expected a JSON object, found {json_kind(study)}")
    run_ids = study.get("run_ids", [])
    if not isinstance(run_ids, list) or not all(isinstance(rid, str) for rid in run_ids):
        raise StoreError(path, '"run_ids" is not a list of run ids')
    return study


def load_history(directory: Path) -> list[dict[str, str]]:
    """Rows of the run's ``history.csv`` as text; raises StoreError unless :func:`history_problem` passes."""
    path = directory / HISTORY_FILE
    text = _read_text(path)
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise StoreError(path, f"not valid CSV ({exc})") from None
    problem = history_problem(rows)
    if problem:
        raise StoreError(path, problem)
    header = rows[0]
    return [dict(zip(header, row, strict=True)) for row in rows[1:]]


def load_predictions(directory: Path) -> Predictions:
    """The run's ``predictions.npz`` (never unpickled), checked for shapes, dtypes and finite scores."""
    path = directory / PREDICTIONS_FILE
    _refuse_outside(path)
    if not path.is_file():
        raise StoreError(path, "missing" if not path.exists() else "not a regular file")
    arrays = _load_npz(path)
    problem = predictions_problem(arrays)
    if problem:
        raise StoreError(path, problem)
    ids = arrays.get(SAMPLE_IDS)
    return Predictions(arrays["labels"].astype(np.int64), arrays["scores"], None if ids is None else ids.ravel())


def check_outputs(directory: Path) -> None:
    """Raise StoreError unless the run is whole.

    Whole: ``result.json`` says completed and holds the test metrics, and ``spec.toml``, ``history.csv``
    and ``predictions.npz`` are there and read cleanly. A tuning trial (result.json has ``trial``) holds its
    validation ``objective`` instead and has no test predictions.
    """
    result = load_result(directory)
    path = directory / RESULT_FILE
    if result["status"] != statuses.COMPLETED:
        raise StoreError(path, f"status is {result['status']!r}, not {statuses.COMPLETED!r}")
    if "trial" in result:
        if not _is_number((result.get("objective") or {}).get("value")):
            raise StoreError(path, '"objective.value" of a completed trial is missing or not a number')
        load_spec(directory)
        load_history(directory)
        return
    metrics = result.get("metrics")
    if not isinstance(metrics, dict):
        raise StoreError(path, f'status {statuses.COMPLETED!r} without a "metrics" object')
    if not _is_number(metrics.get("test_accuracy")):
        raise StoreError(path, '"metrics.test_accuracy" is missing or not a number')
    _check_run_id(directory, load_spec(directory), result)
    load_history(directory)
    load_predictions(directory)


_RUN_ID = re.compile(r"[0-9a-f]{12}")


def _check_run_id(directory: Path, spec: dict[str, Any], result: dict[str, Any]) -> None:
    """StoreError when the stored spec does not hash to the run's id (its directory name, else result.json's)."""
    expected = directory.name if _RUN_ID.fullmatch(directory.name) else result.get("run_id")
    actual = data_run_id(spec)
    if isinstance(expected, str) and actual != expected:
        raise StoreError(
            directory / SPEC_FILE, f"does not match its run id: the spec hashes to {actual}, the run is {expected}"
        )


def outputs_problem(directory: Path) -> str | None:
    """None when the run completed and its files are whole (:func:`check_outputs`), else the one-line reason.

    The reason names the file, e.g. ``results/q/runs/abc123/predictions.npz: truncated or not an npz file``.
    """
    try:
        check_outputs(directory)
    except StoreError as exc:
        return str(exc)
    return None


def damaged_path(directory: Path) -> Path | None:
    """The first file of a run that :func:`check_outputs` finds damaged (present but unusable), or None."""
    try:
        check_outputs(directory)
    except StoreError as exc:
        return exc.path if os.path.lexists(exc.path) else None
    return None


def is_completed(directory: Path) -> bool:
    """True when the run completed and its outputs are whole (the run is skipped on resume)."""
    return outputs_problem(directory) is None


def _read_bytes(path: Path) -> bytes:
    _refuse_outside(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise StoreError(path, "missing") from None
    except OSError as exc:
        raise StoreError(path, f"cannot be read ({exc.strerror or exc})") from None
    if not data.strip():
        raise StoreError(path, "empty file")
    return data


def _refuse_outside(path: Path) -> None:
    """StoreError when ``path`` leads outside its study directory (a link); nothing is read from there."""
    problem = outside_problem(path)
    if problem:
        raise StoreError(path, problem)


def _read_text(path: Path) -> str:
    data = _read_bytes(path)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise StoreError(path, f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})") from None


def _load_json(path: Path) -> Any:
    text = _read_text(path)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise StoreError(path, f"not valid JSON (line {exc.lineno} column {exc.colno}: {exc.msg})") from None


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _load_npz(path: Path) -> dict[str, np.ndarray]:
    try:
        loaded = np.load(path, allow_pickle=False)
        if not isinstance(loaded, NpzFile):
            raise StoreError(path, "not an npz file (a single array)")
        with loaded:
            return {name: np.asarray(loaded[name]) for name in loaded.files}
    except StoreError:
        raise
    except (OSError, EOFError, zipfile.BadZipFile, zlib.error):
        raise StoreError(path, "truncated or not an npz file") from None
    except ValueError as exc:
        if "pickle" in str(exc) or "Object arrays" in str(exc):
            raise StoreError(path, "holds pickled (object) data, which is never loaded") from None
        raise StoreError(path, f"unreadable array ({_first_line(exc)})") from None


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot serialise {type(value).__name__} to JSON")

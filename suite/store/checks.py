"""What makes a stored file usable: pure checks of parsed content, each giving one line or None."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

SAMPLE_IDS = "sample_ids"


def json_kind(value: Any) -> str:
    """``a list``, ``a string``, ``a number``...: what a JSON value is, for a message."""
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    return "null" if value is None else type(value).__name__


def history_problem(rows: list[list[str]]) -> str | None:
    """What is wrong with ``history.csv`` rows (header first), or None.

    Usable: an ``epoch`` column of whole numbers, numbers (or nothing) in the standard columns and the
    ``lr_<group>`` columns, every row as wide as the header, at least one epoch.
    """
    from suite.runners.protocol import HISTORY_COLUMNS  # numbers whenever they hold anything, as lr_<group>

    header = rows[0] if rows else []
    if "epoch" not in header:
        return f"no epoch column in the header ({','.join(header)[:80]})"
    if len(rows) < 2:
        return "no epochs (a header only)"
    numeric = [i for i, name in enumerate(header) if name in HISTORY_COLUMNS or name.startswith("lr_")]
    epoch = header.index("epoch")
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            return f"line {line} has {len(row)} fields, the header {len(header)}"
        if not _is_whole(row[epoch]):
            return f"line {line}: epoch {row[epoch]!r} is not a whole number"
        for index in numeric:
            if row[index].strip() and not _is_float(row[index]):
                return f"line {line}: {header[index]} {row[index]!r} is not a number"
    return None


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _is_whole(text: str) -> bool:
    try:
        value = float(text)
    except ValueError:
        return False
    return math.isfinite(value) and value == int(value) and value >= 0


def predictions_problem(arrays: dict[str, np.ndarray]) -> str | None:
    """What is wrong with the arrays of ``predictions.npz``, or None.

    Usable: ``labels`` (N,) integers in 0..C-1, ``scores`` (N, C) finite floats, optional ``sample_ids`` (N,).
    """
    missing = [name for name in ("labels", "scores") if name not in arrays]
    if missing:
        return f"no {' or '.join(repr(name) for name in missing)} array"
    labels, scores = arrays["labels"], arrays["scores"]
    if labels.ndim != 1 or labels.dtype.kind not in "iu":
        return f"labels must be (N,) integers, found {labels.shape} {labels.dtype}"
    if scores.ndim != 2 or scores.dtype.kind != "f" or scores.shape[1] < 1:
        return f"scores must be (N, C) floats, found {scores.shape} {scores.dtype}"
    if scores.shape[0] != labels.shape[0]:
        return f"{labels.shape[0]} labels but {scores.shape[0]} rows of scores"
    if not np.isfinite(scores).all():
        return "scores hold NaN or infinite values"
    if labels.size and (labels.min() < 0 or labels.max() >= scores.shape[1]):
        return f"labels outside 0..{scores.shape[1] - 1}"
    ids = arrays.get(SAMPLE_IDS)
    if ids is not None and ids.shape != labels.shape:
        return f"sample_ids has shape {ids.shape}, the labels {labels.shape}"
    return None

"""Per-sample test outcomes of stored runs, and matching two runs sample by sample.

``predictions.npz`` holds ``labels`` and ``scores`` (and ``sample_ids`` when the store wrote them).
Two runs are paired on the samples whose ids both hold; runs without ids are paired by position
when their test labels are identical and their data fingerprints do not differ (every run of a
study loads its split deterministically from the seed, so equal positions are equal samples).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from suite import store


@dataclass(frozen=True)
class Outcome:
    """One run's test split: true labels, predicted classes, class count and (optional) sample ids."""

    labels: np.ndarray
    predicted: np.ndarray
    n_classes: int
    sample_ids: np.ndarray | None = None
    fingerprint: str | None = None

    @property
    def correct(self) -> np.ndarray:
        """Boolean per sample: prediction equals label."""
        return self.labels == self.predicted

    @property
    def n(self) -> int:
        """Test-set size."""
        return int(self.labels.size)


@dataclass(frozen=True)
class Matched:
    """Per-sample correctness of two runs on their common test samples, and how they were matched."""

    correct_a: np.ndarray
    correct_b: np.ndarray
    how: str  # "sample ids" | "position"

    @property
    def n(self) -> int:
        """Number of paired samples."""
        return int(self.correct_a.size)


def read_outcome(run_dir: str | Path) -> Outcome | None:
    """The run's test outcome, or None when ``predictions.npz`` is absent or damaged (cached per file version)."""
    path = Path(run_dir) / store.PREDICTIONS_FILE
    try:
        stamp = path.stat().st_mtime_ns
    except OSError:
        return None
    return _read(str(path), stamp)


@lru_cache(maxsize=4096)
def _read(path: str, stamp: int) -> Outcome | None:
    del stamp  # part of the cache key only
    run_dir = Path(path).parent
    try:
        predictions = store.load_predictions(run_dir)
    except store.StoreError:
        return None
    labels, scores = predictions.labels, predictions.scores
    predicted = scores.argmax(axis=1).astype(np.int64)
    return Outcome(labels, predicted, int(scores.shape[1]), predictions.sample_ids, _fingerprint(run_dir))


def _fingerprint(run_dir: Path) -> str | None:
    result = store.read_result(run_dir) or {}
    value = (result.get("extra") or {}).get("data_fingerprint")
    return str(value) if value else None


def match(a: Outcome, b: Outcome) -> Matched | None:
    """Correctness of ``a`` and ``b`` on the same samples, or None when they cannot be paired."""
    if a.sample_ids is not None and b.sample_ids is not None:
        common, index_a, index_b = np.intersect1d(a.sample_ids, b.sample_ids, return_indices=True)
        if common.size == 0 or not np.array_equal(a.labels[index_a], b.labels[index_b]):
            return None
        return Matched(a.correct[index_a], b.correct[index_b], "sample ids")
    if a.n != b.n or not np.array_equal(a.labels, b.labels):
        return None
    if a.fingerprint and b.fingerprint and a.fingerprint != b.fingerprint:
        return None
    return Matched(a.correct, b.correct, "position")

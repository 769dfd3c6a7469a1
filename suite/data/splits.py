"""Deterministic train/val/test assignment from a source's published splits.

Published ``train``/``val``/``test`` splits are kept. A missing test split is carved
from train with ``split.test``, a missing val split with ``split.val`` (both fractions of
the published train split), stratified by label with ``random_state=seed`` (unstratified
when a class is too small). ``subset`` caps then take a stratified, seeded subsample.

Every sample has a stable id: its index in the published splits laid end to end
(train, then val, then test), so two loads can be compared sample by sample.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import train_test_split

from suite.data.registry import SPLIT_NAMES, RawDataset
from suite.spec.models import SplitSpec, SubsetSpec


@dataclass(frozen=True)
class Assigned:
    """One final split: the published split its samples come from and their indices in it."""

    source: str
    indices: np.ndarray


def assign_splits(
    labels: dict[str, np.ndarray], split: SplitSpec, subset: SubsetSpec | None, seed: int
) -> dict[str, Assigned]:
    """Map each of train/val/test to (published split, sorted indices) given each published split's labels."""
    train_labels = labels["train"]
    pool = np.arange(len(train_labels))
    carved: dict[str, np.ndarray] = {}
    for name in ("test", "val"):
        if name in labels:
            continue
        fraction = getattr(split, name)
        count = _carve_count(name, fraction, len(train_labels), len(pool))
        pool, carved[name] = _stratified_pick(pool, train_labels, len(pool) - count, seed, f"carving {name}")
    assigned = {"train": Assigned("train", pool)}
    for name in ("val", "test"):
        assigned[name] = (
            Assigned("train", carved[name]) if name in carved else Assigned(name, np.arange(len(labels[name])))
        )
    return {name: _cap(assigned[name], labels, subset, seed, name) for name in SPLIT_NAMES}


def _carve_count(name: str, fraction: float, total: int, available: int) -> int:
    if fraction <= 0:
        raise ValueError(f"the source publishes no {name} split and dataset.split.{name} is 0; set it > 0")
    count = max(1, int(round(fraction * total)))
    if count >= available:
        raise ValueError(
            f"carving {count} {name} samples from {available} leaves no training data; "
            f"lower dataset.split.{name} ({fraction:g})"
        )
    return count


def _stratified_pick(
    indices: np.ndarray, labels: np.ndarray, keep: int, seed: int, what: str
) -> tuple[np.ndarray, np.ndarray]:
    """(kept, removed) sorted index arrays with ``len(kept) == keep``, stratified on ``labels[indices]``."""
    if keep >= len(indices):
        return np.sort(indices), indices[:0]
    try:
        kept, removed = train_test_split(indices, train_size=keep, stratify=labels[indices], random_state=seed)
    except ValueError as error:  # a class with too few samples to stratify
        warnings.warn(f"{what}: stratified split impossible ({error}); splitting without stratification", stacklevel=3)
        kept, removed = train_test_split(indices, train_size=keep, random_state=seed)
    return np.sort(kept), np.sort(removed)


def _cap(
    assigned: Assigned, labels: dict[str, np.ndarray], subset: SubsetSpec | None, seed: int, name: str
) -> Assigned:
    cap = getattr(subset, name) if subset is not None else None
    if cap is None or cap >= len(assigned.indices):
        return assigned
    kept, _ = _stratified_pick(assigned.indices, labels[assigned.source], cap, seed, f"subset.{name}")
    return Assigned(assigned.source, kept)


def id_offsets(raw: RawDataset) -> dict[str, int]:
    """Offset of each published split in the end-to-end numbering used for sample ids."""
    offsets, start = {}, 0
    for name in SPLIT_NAMES:
        if name in raw.splits:
            offsets[name] = start
            start += len(raw.splits[name][1])
    return offsets


def split_dataset(
    raw: RawDataset, split: SplitSpec, subset: SubsetSpec | None, seed: int
) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """{train|val|test: (images, labels, sample ids)} for ``raw``, deterministic in ``seed``."""
    labels = {name: split_labels for name, (_, split_labels) in raw.splits.items()}
    offsets = id_offsets(raw)
    out = {}
    for name, assigned in assign_splits(labels, split, subset, seed).items():
        images, split_labels = raw.splits[assigned.source]
        out[name] = (
            images[assigned.indices],
            split_labels[assigned.indices],
            assigned.indices + offsets[assigned.source],
        )
    return out

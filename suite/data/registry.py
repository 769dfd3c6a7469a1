"""Dataset sources: a name -> loader registry and the raw published splits a loader returns.

A source module registers its loader with :func:`register_source`; the loader turns a
:class:`~suite.spec.models.DatasetSpec` into a :class:`RawDataset` holding the splits the
dataset publishes (uint8 NHWC images, int64 labels). Splitting, subsetting and
preprocessing happen later, the same way for every source (see :mod:`suite.data.loading`).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from suite.spec.models import DatasetSpec

SPLIT_NAMES = ("train", "val", "test")
_SPLIT_ALIASES = {"train": "train", "val": "val", "valid": "val", "validation": "val", "test": "test"}


class DatasetUnavailableError(RuntimeError):
    """The dataset's files are not on this machine and could not be downloaded."""


def canonical_split_name(name: str) -> str | None:
    """``train``/``val``/``test`` for a published split name (``validation`` and ``valid`` mean ``val``), else None."""
    return _SPLIT_ALIASES.get(name.lower())


@dataclass(frozen=True)
class RawDataset:
    """The splits a source publishes, before any carving or subsetting.

    ``splits`` maps ``train``/``val``/``test`` (a subset; ``train`` is required) to
    ``(images, labels)``: uint8 NHWC images and int64 labels in ``[0, len(class_names))``.
    All splits share one image shape.
    """

    splits: dict[str, tuple[np.ndarray, np.ndarray]]
    class_names: list[str]
    description: str = ""

    def __post_init__(self) -> None:
        if "train" not in self.splits:
            raise ValueError(f"a dataset needs a 'train' split, got {sorted(self.splits)}")
        unknown = set(self.splits) - set(SPLIT_NAMES)
        if unknown:
            raise ValueError(f"unknown split name(s) {sorted(unknown)}; use {SPLIT_NAMES}")
        if not self.class_names:
            raise ValueError("a dataset needs at least one class name")
        shapes = {name: images.shape[1:] for name, (images, _) in self.splits.items()}
        if len(set(shapes.values())) > 1:
            raise ValueError(f"all splits must share one image shape, got {shapes}")
        for name, (images, labels) in self.splits.items():
            _check_split(name, images, labels, len(self.class_names))


def _check_split(name: str, images: np.ndarray, labels: np.ndarray, num_classes: int) -> None:
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[-1] not in (1, 3):
        raise ValueError(
            f"split {name!r}: images must be uint8 NHWC with 1 or 3 channels, got {images.dtype} {images.shape}"
        )
    if labels.dtype != np.int64 or labels.ndim != 1:
        raise ValueError(f"split {name!r}: labels must be a 1-D int64 array, got {labels.dtype} {labels.shape}")
    if len(images) != len(labels):
        raise ValueError(f"split {name!r}: {len(images)} images but {len(labels)} labels")
    if len(labels) == 0:
        raise ValueError(f"split {name!r} is empty")
    bad = labels[(labels < 0) | (labels >= num_classes)]
    if len(bad):
        raise ValueError(
            f"split {name!r}: label(s) {sorted(set(bad.tolist()))[:10]} outside "
            f"[0, {num_classes}) for {num_classes} class names"
        )


Loader = Callable[[DatasetSpec], RawDataset]


@dataclass(frozen=True)
class SourceEntry:
    """A registered source: its name, loader and one-line description."""

    name: str
    loader: Loader
    description: str


_SOURCES: dict[str, SourceEntry] = {}


def register_source(name: str, *, description: str = "") -> Callable[[Loader], Loader]:
    """Decorator registering a loader ``(spec) -> RawDataset`` under ``name``; a duplicate name is a ValueError."""

    def decorate(loader: Loader) -> Loader:
        if name in _SOURCES:
            raise ValueError(f"dataset source {name!r} is already registered (by {_SOURCES[name].loader.__module__})")
        summary = description or (loader.__doc__ or "").strip().splitlines()[0]
        _SOURCES[name] = SourceEntry(name, loader, summary)
        return loader

    return decorate


def _discover() -> dict[str, SourceEntry]:
    importlib.import_module("suite.data.sources")  # importing the package registers the built-in sources
    return _SOURCES


def get_source(name: str) -> SourceEntry:
    """The entry for ``name``; KeyError naming the known sources otherwise."""
    sources = _discover()
    if name not in sources:
        raise KeyError(f"unknown dataset source {name!r}; known: {', '.join(sorted(sources))}")
    return sources[name]


def list_sources() -> dict[str, str]:
    """Every registered source name -> its one-line description (for ``suite list``)."""
    return {name: entry.description for name, entry in sorted(_discover().items())}

from __future__ import annotations

import numpy as np
import pytest

from suite.data.registry import RawDataset, canonical_split_name, get_source, list_sources, register_source

BUILTIN = {"digits", "mnist", "cifar10", "folder", "hf"}


def _images(n: int, size: int = 4) -> np.ndarray:
    return np.zeros((n, size, size, 1), dtype=np.uint8)


def test_every_builtin_source_is_listed_with_a_description() -> None:
    sources = list_sources()
    assert BUILTIN <= set(sources)
    assert all(description.strip() for description in sources.values())


@pytest.mark.parametrize("name", sorted(BUILTIN))
def test_get_source_returns_the_registered_loader(name: str) -> None:
    entry = get_source(name)
    assert entry.name == name and callable(entry.loader)


def test_unknown_source_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="known: cifar10, digits"):
        get_source("imagenet")


def test_duplicate_registration_is_an_error() -> None:
    with pytest.raises(ValueError, match="already registered"):
        register_source("digits")(lambda spec: None)


@pytest.mark.parametrize(
    ("published", "canonical"),
    [("train", "train"), ("validation", "val"), ("valid", "val"), ("VAL", "val"), ("test", "test"), ("extra", None)],
)
def test_split_aliases(published: str, canonical: str | None) -> None:
    assert canonical_split_name(published) == canonical


def test_raw_dataset_accepts_consistent_splits() -> None:
    raw = RawDataset({"train": (_images(3), np.array([0, 1, 1])), "test": (_images(2), np.array([1, 0]))}, ["a", "b"])
    assert set(raw.splits) == {"train", "test"}


@pytest.mark.parametrize(
    ("splits", "message"),
    [
        ({"test": (_images(2), np.array([0, 1]))}, "needs a 'train' split"),
        ({"train": (_images(2), np.array([0, 1])), "holdout": (_images(1), np.array([0]))}, "unknown split"),
        ({"train": (_images(2), np.array([0, 2]))}, r"label\(s\) \[2\] outside"),
        ({"train": (_images(2), np.array([0, -1]))}, r"label\(s\) \[-1\] outside"),
        ({"train": (_images(3), np.array([0, 1]))}, "3 images but 2 labels"),
        ({"train": (_images(0), np.array([], dtype=np.int64))}, "is empty"),
        ({"train": (_images(2).astype(np.float32), np.array([0, 1]))}, "must be uint8 NHWC"),
        ({"train": (_images(2), np.array([0, 1], dtype=np.int32))}, "int64"),
        ({"train": (_images(2), np.array([0, 1])), "test": (_images(2, size=5), np.array([0, 1]))}, "one image shape"),
    ],
)
def test_raw_dataset_rejects_bad_input(splits: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RawDataset(splits, ["a", "b"])

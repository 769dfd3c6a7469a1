from __future__ import annotations

import numpy as np
import pytest

from suite.data.registry import RawDataset
from suite.data.splits import assign_splits, id_offsets, split_dataset
from suite.spec.models import SplitSpec, SubsetSpec

LABELS = np.repeat(np.arange(4), 50)  # 200 samples, 4 balanced classes


def _ids(assigned: dict) -> dict[str, set[int]]:
    return {name: set(a.indices.tolist()) for name, a in assigned.items()}


def test_carves_val_and_test_from_train_with_the_given_fractions() -> None:
    assigned = assign_splits({"train": LABELS}, SplitSpec(val=0.2, test=0.1), None, seed=0)
    assert {a.source for a in assigned.values()} == {"train"}
    assert [len(assigned[n].indices) for n in ("train", "val", "test")] == [140, 40, 20]
    ids = _ids(assigned)
    assert not ids["train"] & ids["val"] and not ids["train"] & ids["test"] and not ids["val"] & ids["test"]
    assert ids["train"] | ids["val"] | ids["test"] == set(range(200))


def test_carving_is_stratified() -> None:
    assigned = assign_splits({"train": LABELS}, SplitSpec(val=0.2, test=0.2), None, seed=3)
    for name in ("val", "test"):
        assert np.bincount(LABELS[assigned[name].indices]).tolist() == [10, 10, 10, 10]


def test_same_seed_same_split_other_seed_other_split() -> None:
    first = assign_splits({"train": LABELS}, SplitSpec(), None, seed=7)
    again = assign_splits({"train": LABELS}, SplitSpec(), None, seed=7)
    other = assign_splits({"train": LABELS}, SplitSpec(), None, seed=8)
    for name in ("train", "val", "test"):
        np.testing.assert_array_equal(first[name].indices, again[name].indices)
    assert not np.array_equal(first["test"].indices, other["test"].indices)


def test_published_splits_are_kept_and_only_the_missing_one_is_carved() -> None:
    labels = {"train": LABELS, "test": np.arange(30) % 4}
    assigned = assign_splits(labels, SplitSpec(val=0.25, test=0.5), None, seed=0)
    assert assigned["test"].source == "test"
    np.testing.assert_array_equal(assigned["test"].indices, np.arange(30))
    assert assigned["val"].source == "train" and len(assigned["val"].indices) == 50
    assert len(assigned["train"].indices) == 150


def test_all_published_splits_are_used_as_is() -> None:
    labels = {"train": LABELS, "val": np.arange(8) % 4, "test": np.arange(12) % 4}
    assigned = assign_splits(labels, SplitSpec(), None, seed=0)
    assert [(a.source, len(a.indices)) for a in assigned.values()] == [("train", 200), ("val", 8), ("test", 12)]


def test_subset_caps_are_stratified_and_deterministic() -> None:
    subset = SubsetSpec(train=40, val=8, test=100)
    assigned = assign_splits({"train": LABELS}, SplitSpec(val=0.2, test=0.2), subset, seed=1)
    assert [len(assigned[n].indices) for n in ("train", "val", "test")] == [40, 8, 40]  # test cap above its size
    assert np.bincount(LABELS[assigned["train"].indices]).tolist() == [10, 10, 10, 10]
    again = assign_splits({"train": LABELS}, SplitSpec(val=0.2, test=0.2), subset, seed=1)
    np.testing.assert_array_equal(assigned["train"].indices, again["train"].indices)


def test_falls_back_to_unstratified_when_a_class_is_too_small() -> None:
    labels = np.array([0] * 20 + [1])  # class 1 has a single sample
    with pytest.warns(UserWarning, match="without stratification"):
        assigned = assign_splits({"train": labels}, SplitSpec(val=0.2, test=0.2), None, seed=0)
    assert sum(len(a.indices) for a in assigned.values()) == 21


@pytest.mark.parametrize("missing", ["val", "test"])
def test_zero_fraction_for_a_missing_split_is_an_error(missing: str) -> None:
    split = SplitSpec(**{missing: 0.0})
    with pytest.raises(ValueError, match=f"no {missing} split"):
        assign_splits({"train": LABELS}, split, None, seed=0)


@pytest.mark.filterwarnings("ignore:carving test")
def test_too_few_samples_to_carve_is_an_error() -> None:
    with pytest.raises(ValueError, match="leaves no training data"):
        assign_splits({"train": np.array([0, 1])}, SplitSpec(val=0.4, test=0.4), None, seed=0)


def test_sample_ids_number_published_splits_end_to_end() -> None:
    images = np.arange(14, dtype=np.uint8).reshape(14, 1, 1, 1)
    raw = RawDataset(
        {"train": (images[:10], np.arange(10) % 2), "test": (images[10:], np.arange(4) % 2)}, ["even", "odd"]
    )
    assert id_offsets(raw) == {"train": 0, "test": 10}
    parts = split_dataset(raw, SplitSpec(val=0.2), None, seed=0)
    for split_images, split_labels, ids in parts.values():
        np.testing.assert_array_equal(split_images[:, 0, 0, 0], ids)  # each image's pixel is its global id
        np.testing.assert_array_equal(split_labels, ids % 2)
    np.testing.assert_array_equal(parts["test"][2], np.arange(10, 14))

"""Hugging Face datasets saved with save_to_disk, and the offline error of load_dataset."""

from __future__ import annotations

from pathlib import Path

import datasets
import numpy as np
import pytest
from PIL import Image

from suite.data.loading import DatasetUnavailableError, load_bundle
from suite.data.sources.hf import load_hf
from suite.spec.models import DatasetSpec

CLASSES = ["angular_leaf_spot", "bean_rust", "healthy"]


def _split(count: int, offset: int, image_key: str = "image", label_key: str = "labels", mode: str = "RGB"):  # noqa: ANN202
    images = [Image.new(mode, (10, 7), (offset + i) if mode == "L" else (offset + i, 0, 255)) for i in range(count)]
    features = datasets.Features({image_key: datasets.Image(), label_key: datasets.ClassLabel(names=CLASSES)})
    return datasets.Dataset.from_dict({image_key: images, label_key: [i % 3 for i in range(count)]}, features=features)


def _save(data, tmp_path: Path) -> str:  # noqa: ANN001
    path = tmp_path / "saved"
    data.save_to_disk(str(path))
    return str(path)


def test_dataset_dict_with_train_validation_test(tmp_path: Path) -> None:
    path = _save(datasets.DatasetDict(train=_split(9, 0), validation=_split(6, 100), test=_split(3, 200)), tmp_path)
    raw = load_hf(DatasetSpec(source="hf", path=path))
    assert raw.class_names == CLASSES
    assert {name: images.shape for name, (images, _) in raw.splits.items()} == {
        "train": (9, 7, 10, 3), "val": (6, 7, 10, 3), "test": (3, 7, 10, 3)
    }  # fmt: skip
    val_images, val_labels = raw.splits["val"]
    assert val_images[4, 0, 0].tolist() == [104, 0, 255] and val_labels.tolist() == [0, 1, 2, 0, 1, 2]
    bundle = load_bundle(DatasetSpec(source="hf", path=path, image_size=32, normalization="imagenet"), seed=0)
    assert (len(bundle.train), len(bundle.val), len(bundle.test)) == (9, 6, 3) and bundle.input_shape == (32, 32, 3)
    np.testing.assert_array_equal(bundle.sample_ids["test"], [15, 16, 17])


def test_single_saved_dataset_is_train_and_gets_split(tmp_path: Path) -> None:
    path = _save(_split(30, 0), tmp_path)
    bundle = load_bundle(DatasetSpec(source="hf", path=path, split={"val": 0.2, "test": 0.2}), seed=0)
    assert (len(bundle.train), len(bundle.val), len(bundle.test)) == (18, 6, 6)


def test_columns_are_found_by_feature_type(tmp_path: Path) -> None:
    path = _save(
        datasets.DatasetDict(train=_split(3, 0, "picture", "kind"), test=_split(3, 0, "picture", "kind")), tmp_path
    )
    raw = load_hf(DatasetSpec(source="hf", path=path))
    assert raw.splits["train"][0].shape == (3, 7, 10, 3) and raw.splits["train"][1].tolist() == [0, 1, 2]


def test_explicit_keys_and_string_labels(tmp_path: Path) -> None:
    images = [Image.new("L", (5, 5), 30 * i) for i in range(4)]
    features = datasets.Features({"a": datasets.Image(), "b": datasets.Image(), "species": datasets.Value("string")})
    data = datasets.Dataset.from_dict({"a": images, "b": images, "species": ["owl", "cat", "owl", "bee"]}, features)
    path = _save(data, tmp_path)
    raw = load_hf(DatasetSpec(source="hf", path=path, image_key="b", label_key="species"))
    assert raw.class_names == ["bee", "cat", "owl"] and raw.splits["train"][1].tolist() == [2, 1, 2, 0]
    assert raw.splits["train"][0].shape == (4, 5, 5, 1) and raw.splits["train"][0][3, 0, 0, 0] == 90
    with pytest.raises(ValueError, match="cannot tell which column holds the labels"):
        load_hf(DatasetSpec(source="hf", path=path, image_key="b"))
    with pytest.raises(ValueError, match="dataset.image_key 'photo' is not a column"):
        load_hf(DatasetSpec(source="hf", path=path, image_key="photo", label_key="species"))


def test_unlabelled_test_split_is_rejected(tmp_path: Path) -> None:
    test = _split(3, 0).cast_column("labels", datasets.Value("int64")).map(lambda row: {"labels": -1})
    train = _split(3, 0).cast_column("labels", datasets.Value("int64"))
    path = _save(datasets.DatasetDict(train=train, test=test), tmp_path)
    with pytest.raises(ValueError, match=r"split 'test': label\(s\) \[-1\] outside"):
        load_hf(DatasetSpec(source="hf", path=path))


def test_variable_image_sizes_need_image_size(tmp_path: Path) -> None:
    images = [Image.new("RGB", (8 + i, 8)) for i in range(3)]
    features = datasets.Features({"image": datasets.Image(), "label": datasets.ClassLabel(names=["x", "y"])})
    path = _save(datasets.Dataset.from_dict({"image": images, "label": [0, 1, 0]}, features), tmp_path)
    with pytest.raises(ValueError, match="3 different sizes"):
        load_hf(DatasetSpec(source="hf", path=path))
    assert load_hf(DatasetSpec(source="hf", path=path, image_size=12)).splits["train"][0].shape == (3, 12, 12, 3)


def test_dataset_without_train_split_is_rejected(tmp_path: Path) -> None:
    path = _save(datasets.DatasetDict(unsupervised=_split(3, 0)), tmp_path)
    with pytest.raises(ValueError, match="no 'train' split"):
        load_hf(DatasetSpec(source="hf", path=path))


def test_missing_saved_copy_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(DatasetUnavailableError, match=r"save_to_disk"):
        load_hf(DatasetSpec(source="hf", id="AI-Lab-Makerere/beans", path=str(tmp_path / "absent")))


def test_hub_unreachable_names_the_id_cache_and_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    requested: list[str] = []

    def offline_load_dataset(dataset_id: str, *args: object, **kwargs: object) -> None:
        requested.append(dataset_id)
        raise ConnectionError(f"Couldn't reach '{dataset_id}' on the Hub (LocalEntryNotFoundError)")

    monkeypatch.setattr(datasets, "load_dataset", offline_load_dataset)
    with pytest.raises(DatasetUnavailableError) as caught:
        load_bundle(DatasetSpec(source="hf", id="AI-Lab-Makerere/beans"), seed=0)
    message = str(caught.value)
    assert requested == ["AI-Lab-Makerere/beans"]
    assert "'AI-Lab-Makerere/beans'" in message and str(datasets.config.HF_DATASETS_CACHE) in message
    assert "save_to_disk" in message and "dataset.path" in message

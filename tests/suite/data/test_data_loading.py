"""End to end through load_bundle on sklearn's bundled digits (real data, offline)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_digits

import suite
from suite.data.loading import load_bundle
from suite.data.preprocess import Preprocessing
from suite.spec.models import DatasetSpec


def _spec(**overrides: object) -> DatasetSpec:
    return DatasetSpec(source="digits", **overrides)


def test_digits_bundle_holds_every_sample_once_scaled_to_uint8() -> None:
    bundle = load_bundle(_spec(split={"val": 0.2, "test": 0.2}), seed=0)
    reference = load_digits()
    assert bundle.class_names == [str(i) for i in range(10)]
    assert (len(bundle.train), len(bundle.val), len(bundle.test)) == (1079, 359, 359)
    all_ids = np.concatenate([bundle.sample_ids[name] for name in ("train", "val", "test")])
    assert sorted(all_ids.tolist()) == list(range(len(reference.target)))
    for split_name in ("train", "test"):
        split, ids = getattr(bundle, split_name), bundle.sample_ids[split_name]
        assert split.images.shape[1:] == (8, 8, 1) and split.images.dtype == np.uint8
        expected = np.rint(reference.images[ids] * 255 / 16).astype(np.uint8)[..., None]
        np.testing.assert_array_equal(split.images, expected)
        np.testing.assert_array_equal(split.labels, reference.target[ids])
    assert bundle.train.images.max() == 255 and bundle.train.labels.dtype == np.int64


def test_same_seed_gives_the_very_same_samples() -> None:
    spec = _spec(subset={"train": 200, "val": 50, "test": 50})
    first, second = load_bundle(spec, seed=5), load_bundle(spec, seed=5)
    for name in ("train", "val", "test"):
        np.testing.assert_array_equal(first.sample_ids[name], second.sample_ids[name])
        np.testing.assert_array_equal(getattr(first, name).images, getattr(second, name).images)
        np.testing.assert_array_equal(getattr(first, name).labels, getattr(second, name).labels)


def test_other_seed_gives_another_split_and_splits_stay_disjoint() -> None:
    first, other = load_bundle(_spec(), seed=0), load_bundle(_spec(), seed=1)
    assert not np.array_equal(first.sample_ids["test"], other.sample_ids["test"])
    for bundle in (first, other):
        ids = [set(bundle.sample_ids[name].tolist()) for name in ("train", "val", "test")]
        assert not (ids[0] & ids[1] or ids[0] & ids[2] or ids[1] & ids[2])


def test_subset_caps_each_split_with_every_class_kept() -> None:
    bundle = load_bundle(_spec(subset={"train": 100, "val": 30, "test": 20}), seed=0)
    assert (len(bundle.train), len(bundle.val), len(bundle.test)) == (100, 30, 20)
    assert np.bincount(bundle.train.labels, minlength=10).tolist() == [10] * 10


@pytest.mark.parametrize(
    ("image_size", "channels", "normalization", "shape"),
    [(None, None, "unit", (8, 8, 1)), (32, 3, "imagenet", (32, 32, 3)), (16, 1, "half", (16, 16, 1))],
)
def test_bundle_preprocessing_turns_uint8_into_model_inputs(
    image_size: int | None, channels: int | None, normalization: str, shape: tuple[int, int, int]
) -> None:
    bundle = load_bundle(_spec(image_size=image_size, channels=channels, normalization=normalization), seed=0)
    assert bundle.preprocessing == Preprocessing(image_size, channels, normalization)
    assert bundle.input_shape == shape
    batch = bundle.preprocessing.apply(bundle.test.images[:5])
    assert batch.shape == (5, *shape) and batch.dtype == np.float32
    assert bundle.train.images.shape[1:] == (8, 8, 1)  # the bundle keeps native uint8 images


def test_importing_the_data_layer_loads_no_framework() -> None:
    code = (
        "import sys, suite.data.loading, suite.data.registry; suite.data.registry.list_sources(); "
        "loaded = [m for m in ('torch', 'tensorflow', 'keras', 'jax') if m in sys.modules]; "
        "assert not loaded, loaded"
    )
    repo_root = Path(suite.__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(repo_root), os.environ.get("PYTHONPATH")]))}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)

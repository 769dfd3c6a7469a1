"""Fixtures: a real offline dataset (sklearn digits) as a DataBundle, and spec builders."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sklearn.datasets import load_digits

from suite.data.bundle import DataBundle, Split
from suite.data.preprocess import Preprocessing
from suite.spec.models import ExperimentSpec


def digits_bundle(
    image_size: int | None = None, channels: int | None = None, normalization: str = "unit"
) -> DataBundle:
    """sklearn's 8x8 digits as uint8 NHWC, split by hand 60/20/20 after a fixed shuffle."""
    digits = load_digits()
    images = np.round(digits.images * 255.0 / 16.0).astype(np.uint8)[..., None]
    labels = digits.target.astype(np.int64)
    order = np.random.default_rng(0).permutation(len(labels))
    images, labels = images[order], labels[order]
    n_train, n_val = int(0.6 * len(labels)), int(0.2 * len(labels))
    cuts = {"train": slice(0, n_train), "val": slice(n_train, n_train + n_val), "test": slice(n_train + n_val, None)}
    splits = {name: Split(images[cut], labels[cut]) for name, cut in cuts.items()}
    return DataBundle(
        **splits,
        class_names=[str(digit) for digit in range(10)],
        preprocessing=Preprocessing(image_size=image_size, channels=channels, normalization=normalization),
        source="digits",
    )


def small_bundle(bundle: DataBundle, n_train: int, n_eval: int) -> DataBundle:
    """The first samples of each split (for fast tests on bigger models)."""

    def cut(split: Split, n: int) -> Split:
        return Split(split.images[:n], split.labels[:n])

    return DataBundle(
        cut(bundle.train, n_train), cut(bundle.val, n_eval), cut(bundle.test, n_eval),
        bundle.class_names, bundle.preprocessing, bundle.source,
    )  # fmt: skip


def make_spec(model: dict[str, Any], **sections: Any) -> ExperimentSpec:
    """An ExperimentSpec for digits with fp32 on CPU unless ``sections`` say otherwise."""
    training = {"epochs": 2, "batch_size": 32, "device": "cpu", "precision": "fp32", **sections.pop("training", {})}
    return ExperimentSpec.model_validate(
        {
            "name": sections.pop("name", "test"),
            "backend": "torch",
            "seed": sections.pop("seed", 0),
            "dataset": {"source": "digits", **sections.pop("dataset", {})},
            "model": model,
            "training": training,
            **sections,
        }
    )


@pytest.fixture(scope="session")
def digits() -> DataBundle:
    return digits_bundle()


@pytest.fixture(scope="session")
def digits_rgb32() -> DataBundle:
    """Digits resized to 32x32 RGB: small enough for ResNet18 on CPU, real enough to learn."""
    return small_bundle(digits_bundle(image_size=32, channels=3, normalization="imagenet"), 256, 128)


@pytest.fixture(scope="session")
def spec_for():
    """``spec_for(model_dict, **sections)`` -> ExperimentSpec (see :func:`make_spec`)."""
    return make_spec


@pytest.fixture(scope="session")
def tiny_rgb() -> DataBundle:
    """64 training digits at 16x16 RGB: enough to move weights and statistics of a ResNet quickly."""
    return small_bundle(digits_bundle(image_size=16, channels=3, normalization="imagenet"), 64, 32)

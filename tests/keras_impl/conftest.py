"""Fixtures for the Keras runner tests: real digits data (sklearn, offline) as a DataBundle."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import pytest
from sklearn.datasets import load_digits

from suite.data.bundle import DataBundle, Split
from suite.data.preprocess import Preprocessing
from suite.spec.models import ExperimentSpec


def digits_bundle(image_size: int | None = None, channels: int | None = None, normalization: str = "unit",
                  limit: int | None = None) -> DataBundle:
    """sklearn's 8x8 digits as uint8 NHWC (round(x * 255 / 16)), split 60/20/20 with a fixed permutation."""
    digits = load_digits()
    images = np.rint(digits.images * 255.0 / 16.0).astype(np.uint8)[..., None]
    labels = digits.target.astype(np.int64)
    order = np.random.default_rng(0).permutation(len(labels))
    if limit is not None:
        order = order[:limit]
    images, labels = images[order], labels[order]
    n_train, n_val = int(0.6 * len(labels)), int(0.2 * len(labels))
    cut = {"train": slice(0, n_train), "val": slice(n_train, n_train + n_val), "test": slice(n_train + n_val, None)}
    splits = {name: Split(images[part], labels[part]) for name, part in cut.items()}
    return DataBundle(
        **splits,
        class_names=[str(digit) for digit in range(10)],
        preprocessing=Preprocessing(image_size=image_size, channels=channels, normalization=normalization),
        source="digits",
    )


@pytest.fixture(scope="session")
def digits() -> DataBundle:
    return digits_bundle()


def make_spec(model: dict, **sections: dict) -> ExperimentSpec:
    """An ExperimentSpec on the digits source for the keras backend; ``sections`` override spec sections."""
    raw = {
        "name": f"{model['name']}[backend=keras]",
        "backend": "keras",
        "seed": 0,
        "dataset": {"source": "digits", "normalization": "unit"},
        "model": model,
        "optimizer": {"name": "adam", "lr": 1e-3},
        "training": {"epochs": 1, "batch_size": 32},
    }
    for key, value in sections.items():
        raw[key] = {**raw.get(key, {}), **value} if isinstance(value, dict) else value
    return ExperimentSpec.model_validate(raw)


@pytest.fixture(scope="session")
def runner():
    from keras_impl import create_keras_runner

    return create_keras_runner()

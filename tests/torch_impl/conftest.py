"""Fixtures: a real offline dataset (sklearn digits) as a DataBundle, and spec builders."""

from __future__ import annotations

import pytest
from builders import digits_bundle, make_spec, small_bundle

from suite.data.bundle import DataBundle


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

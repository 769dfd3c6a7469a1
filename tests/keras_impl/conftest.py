"""Fixtures for the Keras runner tests: real digits data (sklearn, offline) as a DataBundle."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import pytest
from builders import digits_bundle

from suite.data.bundle import DataBundle


@pytest.fixture(scope="session")
def digits() -> DataBundle:
    return digits_bundle()


@pytest.fixture(scope="session")
def runner():
    from keras_impl import create_keras_runner

    return create_keras_runner()

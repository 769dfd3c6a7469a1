"""Fixtures for the Keras runner tests: real digits data (sklearn, offline), the runner, runs and sessions."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from builders import digits_bundle, small_bundle

from suite.data.bundle import DataBundle
from suite.plan import build_request
from suite.runners.progress import NullProgress
from suite.runners.protocol import RunOutput
from suite.spec.models import ExperimentSpec
from suite.training.run import describe, execute, plan_for


@pytest.fixture(scope="session")
def digits() -> DataBundle:
    return digits_bundle()


@pytest.fixture(scope="session")
def digits_rgb32() -> DataBundle:
    """Digits resized to 32x32 RGB, the smallest input keras.applications' MobileNetV2 builds at."""
    return small_bundle(digits_bundle(image_size=32, channels=3), 128, 48)


@pytest.fixture(scope="session")
def runner():
    from keras_impl import create_keras_runner

    return create_keras_runner()


@pytest.fixture
def run(runner, tmp_path: Path) -> Callable[..., RunOutput]:
    """Train a Keras spec on a bundle through the core's executor (one fresh directory per call)."""
    counter = iter(range(100))

    def train(spec: ExperimentSpec, data: DataBundle) -> RunOutput:
        return execute(spec, runner, data, tmp_path / f"run{next(counter)}", NullProgress())

    return train


@pytest.fixture
def session(runner, tmp_path: Path) -> Iterator[Callable]:
    """Open a KerasSession for a spec (plan and shared weights as the executor makes them); closed afterwards."""
    from suite.architectures.shared_init import draw_initial_weights

    opened = []

    def open_session(spec: ExperimentSpec, shape: tuple[int, int, int], classes: int = 10, shared: bool = False):
        request = build_request(spec, shape, classes)
        description = describe(runner, request)
        plan = plan_for(spec, description)
        weights = draw_initial_weights(description.init_slots, spec.seed) if shared else None
        opened.append(runner.open_session(request, plan, weights, tmp_path))
        return opened[-1], plan, weights

    yield open_session
    for item in opened:
        item.close()

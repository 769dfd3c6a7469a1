"""Fixtures: a real offline dataset (sklearn digits) as a DataBundle, spec builders, runs and sessions."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from builders import digits_bundle, make_spec, small_bundle

from suite.data.bundle import DataBundle
from suite.plan import build_request
from suite.runners.progress import NullProgress
from suite.runners.protocol import RunOutput
from suite.spec.models import ExperimentSpec
from suite.training.run import describe, execute, plan_for
from torch_impl.runner import TorchRunner
from torch_impl.session import TorchSession


@pytest.fixture(scope="session")
def digits() -> DataBundle:
    return digits_bundle()


@pytest.fixture(scope="session")
def digits_rgb32() -> DataBundle:
    """Digits resized to 32x32 RGB: small enough for ResNet18 on CPU, real enough to learn."""
    return small_bundle(digits_bundle(image_size=32, channels=3, normalization="imagenet"), 256, 128)


@pytest.fixture(scope="session")
def tiny_rgb() -> DataBundle:
    """64 training digits at 16x16 RGB: enough to move weights and statistics of a ResNet quickly."""
    return small_bundle(digits_bundle(image_size=16, channels=3, normalization="imagenet"), 64, 32)


@pytest.fixture(scope="session")
def spec_for():
    """``spec_for(model_dict, **sections)`` -> ExperimentSpec (see :func:`make_spec`)."""
    return make_spec


@pytest.fixture(scope="session")
def run() -> Callable[[ExperimentSpec, DataBundle, Path], RunOutput]:
    """``run(spec, data, run_dir)``: one run through the core (plan, shared loop, test pass) on the torch runner."""

    def run_spec(spec: ExperimentSpec, data: DataBundle, run_dir: Path) -> RunOutput:
        return execute(spec, TorchRunner(), data, run_dir, NullProgress())

    return run_spec


@pytest.fixture(scope="session")
def session_for():
    """``with session_for(spec, data[, initial_weights]) as session``: opened as the core opens it, then closed."""

    @contextlib.contextmanager
    def open_session(
        spec: ExperimentSpec, data: DataBundle, initial: list[np.ndarray] | None = None
    ) -> Iterator[TorchSession]:
        runner = TorchRunner()
        request = build_request(spec, data.input_shape, data.num_classes)
        plan = plan_for(spec, describe(runner, request))
        session = runner.open_session(request, plan, initial, Path("."))
        try:
            yield session
        finally:
            session.close()

    return open_session

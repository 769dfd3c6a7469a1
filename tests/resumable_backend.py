"""The plain-numpy backend with ``save_state`` / ``load_state``; helpers to run, interrupt and resume it in-process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from builders import digits_bundle
from numpy_backend import NumpyRunner, NumpySession

from suite import store
from suite.runners import registry
from suite.runners.progress import NullProgress
from suite.runners.protocol import RunOutput
from suite.spec.models import ExperimentSpec
from suite.spec.serialize import spec_to_toml
from suite.training.run import execute


class Interrupted(BaseException):
    """Stands for SIGKILL in-process: raised from a training step, nothing after it runs."""


class ResumableSession(NumpySession):
    """NumpySession that can be told to die at the n-th step or when
    early stopping restores the best weights."""

    die_at_step: int | None = None
    die_on_restore = False

    def __init__(self, weights: dict[str, np.ndarray], names: list[str]) -> None:
        super().__init__(weights, names)
        self.steps = 0

    def train_step(self, inputs: np.ndarray, labels: np.ndarray) -> tuple[float, int]:
        self.steps += 1
        if self.die_at_step is not None and self.steps >= self.die_at_step:
            raise Interrupted
        return super().train_step(inputs, labels)

    def restore(self, snapshot: Any) -> None:
        if self.die_on_restore:
            raise Interrupted
        super().restore(snapshot)


class ResumableRunner(NumpyRunner):
    """Opens :class:`ResumableSession` objects that die at ``die_at_step`` or (``die_on_restore``) in ``restore``."""

    def __init__(self, die_at_step: int | None = None, die_on_restore: bool = False) -> None:
        super().__init__()
        self.die_at_step = die_at_step
        self.die_on_restore = die_on_restore

    def open_session(self, request, plan, initial_weights, run_dir) -> ResumableSession:
        plain = super().open_session(request, plan, initial_weights, run_dir)
        self.session = ResumableSession(plain.weights, plain.names)
        self.session.die_at_step = self.die_at_step
        self.session.die_on_restore = self.die_on_restore
        return self.session


class Messages(NullProgress):
    """Keeps the progress messages."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def message(self, text: str) -> None:
        self.lines.append(text)


def prepared(directory: Path, spec: ExperimentSpec) -> Path:
    """``directory`` with the spec.toml a worker finds (the resume state is keyed by its hash)."""
    directory.mkdir(parents=True, exist_ok=True)
    store.write_text(directory / store.SPEC_FILE, spec_to_toml(spec))
    return directory


def run_in(directory: Path, spec: ExperimentSpec, runner: NumpyRunner | None = None, **controls: Any) -> RunOutput:
    """One attempt of ``spec`` in ``directory`` (digits, a fresh resumable runner unless given)."""
    runner = runner or ResumableRunner()
    progress = controls.pop("progress", NullProgress())
    return execute(spec, runner, digits_bundle(), directory, progress, **controls)


def comparable(output: RunOutput) -> list[dict[str, Any]]:
    """The history without wall-clock seconds."""
    return [{key: value for key, value in row.items() if key != "seconds"} for row in output.history]


@pytest.fixture(autouse=True, scope="module")
def numpy_backend_registered() -> Iterator[None]:
    """The resumable numpy backend registered as ``numpy`` for a test module (import this fixture there);
    only for that module (other tests list the real backends)."""
    registry.discover()
    registry._RUNNERS["numpy"] = registry.RunnerEntry(
        "numpy", ResumableRunner, (), "plain numpy", ResumableRunner.capabilities
    )
    yield
    registry._RUNNERS.pop("numpy", None)

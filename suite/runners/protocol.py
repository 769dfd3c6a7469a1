"""The one protocol every backend implements, and the plain result it returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from suite.data.bundle import DataBundle
from suite.runners.progress import ProgressReporter
from suite.spec.models import ExperimentSpec, ModelSpec

HISTORY_COLUMNS = ("epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr", "seconds")


@dataclass
class ParamCounts:
    """Parameter accounting with one meaning across frameworks.

    ``total`` = ``trainable`` + ``frozen`` counts learnable weights only; ``buffers`` counts
    non-learnable state such as BatchNorm moving statistics, reported separately.
    ``groups`` maps a layer-group name to ``{"total": n, "trainable": n}``.
    """

    total: int
    trainable: int
    frozen: int
    buffers: int = 0
    groups: dict[str, dict[str, int]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form for result.json."""
        return {
            "total": self.total,
            "trainable": self.trainable,
            "frozen": self.frozen,
            "buffers": self.buffers,
            "groups": self.groups,
        }


@dataclass
class Timing:
    """Measured one way everywhere: warm-up excluded, device synchronised before reading a clock."""

    train_seconds: float
    train_images_per_second: float
    eval_images_per_second: float
    epoch_seconds_mean: float
    warmup_batches_excluded: int

    def to_dict(self) -> dict[str, float]:
        """Plain-data form for result.json."""
        return dict(self.__dict__)


@dataclass
class RunOutput:
    """What a runner returns. Metrics are computed from it in ``suite.metrics``, never by the runner.

    ``history`` holds one dict per epoch with keys :data:`HISTORY_COLUMNS` (plus optional extras);
    ``test_scores`` is (N, C) class probabilities in the order of ``bundle.test``;
    ``best_epoch`` is the epoch whose weights produced the test predictions (0-based).
    """

    history: list[dict[str, float]]
    test_labels: np.ndarray
    test_scores: np.ndarray
    params: ParamCounts
    timing: Timing
    environment: dict[str, Any]
    best_epoch: int
    extra: dict[str, Any] = field(default_factory=dict)


class Runner(Protocol):
    """A backend: trains ``spec`` on ``data`` and returns predictions, counts and timings."""

    name: str

    def check(self, spec: ExperimentSpec) -> list[str]:
        """Problems that stop this spec from running on this backend (empty when it can run)."""

    def run(self, spec: ExperimentSpec, data: DataBundle, run_dir: Path, progress: ProgressReporter) -> RunOutput:
        """Train and evaluate; write checkpoints/logs under ``run_dir``."""

    def list_models(self) -> dict[str, str]:
        """Model names this runner builds, with a one-line description."""

    def describe(self, model: ModelSpec, input_shape: tuple[int, int, int], num_classes: int) -> ParamCounts:
        """Parameter counts (total and per layer group) of ``model`` built for this input and class count."""

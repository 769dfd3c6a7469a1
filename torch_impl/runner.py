"""The torch :class:`~suite.runners.protocol.Runner`: check, run, list models, describe."""

from __future__ import annotations

from pathlib import Path

import torch

from suite.data.bundle import DataBundle
from suite.runners.progress import NullProgress, ProgressReporter
from suite.runners.protocol import ParamCounts, RunOutput
from suite.spec.models import ExperimentSpec, ModelSpec
from torch_impl.checks import spec_problems
from torch_impl.execution import execute
from torch_impl.models import InputShape, build_model, known_models
from torch_impl.params import count_params
from torch_impl.precision import seeded


class TorchRunner:
    """Trains specs with PyTorch; every training key of the spec is honoured or rejected by :meth:`check`."""

    name = "torch"

    def check(self, spec: ExperimentSpec) -> list[str]:
        """Problems that stop ``spec`` from running here (empty when it can run)."""
        return spec_problems(spec)

    def run(
        self, spec: ExperimentSpec, data: DataBundle, run_dir: Path, progress: ProgressReporter | None = None
    ) -> RunOutput:
        """Train and test ``spec`` on ``data``; checkpoints and TensorBoard logs go under ``run_dir``."""
        problems = self.check(spec)
        if problems:
            raise ValueError(f"{spec.name}: cannot run on torch: " + "; ".join(problems))
        run_dir = Path(run_dir)
        run_dir.mkdir(parents=True, exist_ok=True)
        with seeded(spec.seed, spec.training.deterministic):
            return execute(spec, data, run_dir, progress or NullProgress())

    def list_models(self) -> dict[str, str]:
        """Every model name this runner builds, with a one-line description."""
        return known_models()

    def describe(self, model: ModelSpec, input_shape: InputShape, num_classes: int) -> ParamCounts:
        """Parameter counts (nothing frozen) of ``model`` built with random weights."""
        with torch.random.fork_rng():
            built = build_model(model.model_copy(update={"weights": "none"}), tuple(input_shape), num_classes)
        return count_params(built)

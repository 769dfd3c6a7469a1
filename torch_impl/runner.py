"""The torch :class:`~suite.runners.protocol.Runner`: framework checks, model listing and descriptions, sessions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from suite.architectures.catalog import architecture, parity_note
from suite.architectures.weight_files import resolve_weights_file
from suite.plan import BuildRequest, TrainingPlan
from suite.runners.protocol import ModelDescription
from suite.spec.errors import one_line
from suite.spec.models import SHARED_ARCHITECTURES, ExperimentSpec, ModelSpec
from torch_impl import CAPABILITIES
from torch_impl.checks import check_spec
from torch_impl.efficiency import layer_costs
from torch_impl.models import InputShape, build_model, known_models
from torch_impl.models.groups import group_facts
from torch_impl.models.weights import fetch_state_dict, resolve_torchvision_weights, weights_cache_file, weights_kind
from torch_impl.params import count_params
from torch_impl.seeding import reset_process_state
from torch_impl.session import TorchSession
from torch_impl.shared_weights import init_slots


class TorchRunner:
    """PyTorch backend: builds models, describes their layer groups and opens training sessions."""

    name = "torch"
    capabilities = CAPABILITIES

    def reset_process_state(self) -> None:
        """Undo what an earlier run left in this process (a warm worker calls it before each run)."""
        reset_process_state()

    def check(self, spec: ExperimentSpec) -> list[str]:
        """Framework facts that stop ``spec`` from running here (empty when it can run)."""
        return check_spec(spec)

    def weights_files(self, model: ModelSpec, image_size: int, download: bool) -> list[dict[str, Any]]:
        """The torchvision cache file of ``model.weights`` (``$TORCH_HOME/hub/checkpoints``), fetched on request.

        A keras-layout entry's ``"imagenet"`` is Keras' cache file, which a Keras run (or its prefetch) downloads.
        """
        arch = architecture(model.name)
        if arch is not None and arch.layout == "keras.applications" and model.weights == "imagenet":
            path = resolve_weights_file(arch, model.weights)
            return [{"path": str(path), "present": path.is_file(), "source": "keras.applications (a Keras prefetch)"}]
        published = resolve_torchvision_weights(model.name, model.weights)
        if published is None:
            if weights_kind(model.weights) != "file":
                return []
            path = Path(model.weights).expanduser()
            return [{"path": str(path), "present": path.is_file(), "source": "a local file"}]
        path = weights_cache_file(published)
        if download and not path.is_file():
            fetch_state_dict(published)
        return [{"path": str(path), "present": path.is_file(), "source": published.url}]

    def list_models(self) -> dict[str, str]:
        """Every model name this runner builds, with a one-line description."""
        return known_models()

    def describe(self, model: ModelSpec, input_shape: InputShape, num_classes: int) -> ModelDescription:
        """Counts (nothing frozen), group facts and sharing facts of ``model`` built with random weights."""
        shape = tuple(input_shape)
        with torch.random.fork_rng(devices=[]):
            built = build_model(model.model_copy(update={"weights": "none"}), shape, num_classes)
        return ModelDescription(
            params=count_params(built),
            groups=group_facts(built),
            sequential=built.staged,
            init_slots=init_slots(built, shape) if model.name in SHARED_ARCHITECTURES else [],
            parity_note=parity_note(model.name),
            layer_costs=layer_costs(built, shape),
        )

    def weights_problem(self, model: ModelSpec, input_shape: InputShape, num_classes: int) -> str | None:
        """Why ``model.weights`` does not load into ``model`` (built once with them), else None."""
        try:
            with torch.random.fork_rng(devices=[]):
                build_model(model, tuple(input_shape), num_classes)
        except Exception as exc:  # noqa: BLE001 - whatever the loader raises is the file's problem
            return one_line(str(exc)) or type(exc).__name__
        return None

    def open_session(
        self, request: BuildRequest, plan: TrainingPlan, initial_weights: list[np.ndarray] | None, run_dir: Path
    ) -> TorchSession:
        """Seed torch, build ``request``'s model (with shared weights) and apply ``plan`` on its device."""
        return TorchSession(request, plan, initial_weights)

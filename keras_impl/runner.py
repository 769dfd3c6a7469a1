"""The Keras runner: framework facts, model descriptions, and sessions the core's epoch loop drives."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras
import numpy as np

from keras_impl import CAPABILITIES
from keras_impl.checks import check_spec
from keras_impl.efficiency import layer_costs
from keras_impl.models import build_model, model_entries
from keras_impl.models.families import application
from keras_impl.models.weights import create_base
from keras_impl.params import count_params, group_facts
from keras_impl.seeding import reset_process_state
from keras_impl.session import KerasSession, open_keras_session
from keras_impl.shared_weights import init_slots
from suite.architectures.catalog import architecture, parity_note
from suite.architectures.weight_files import keras_models_dir, resolve_weights_file
from suite.plan import BuildRequest, TrainingPlan
from suite.runners.protocol import ModelDescription
from suite.spec.errors import one_line
from suite.spec.models import SHARED_ARCHITECTURES, ExperimentSpec, ModelSpec
from suite.store.weights_ref import is_run_reference


class KerasRunner:
    """Runner protocol implementation for Keras 3 on its configured engine (TensorFlow, JAX or torch)."""

    name = "keras"
    capabilities = CAPABILITIES

    def reset_process_state(self) -> None:
        """Undo what an earlier run left in this process (a warm worker calls it before each run)."""
        reset_process_state()

    def check(self, spec: ExperimentSpec) -> list[str]:
        """Framework facts that stop ``spec`` from running here (empty when it can run)."""
        return check_spec(spec)

    def weights_files(self, model: ModelSpec, image_size: int, download: bool) -> list[dict[str, Any]]:
        """The keras.applications cache file of ImageNet weights (``$KERAS_HOME/models``), fetched on request."""
        if model.weights == "none" or is_run_reference(model.weights):
            return []
        arch = architecture(model.name)
        if arch is not None and arch.layout == "keras.applications" and model.weights == "imagenet":
            path = resolve_weights_file(arch, model.weights)
            if download and not path.is_file():  # keras.applications downloads its own file into Keras' cache
                getattr(keras.applications, arch.options["constructor"])(include_top=False, weights="imagenet")
            return [{"path": str(path), "present": path.is_file(), "source": "keras.applications (downloads it)"}]
        if arch is not None and arch.converts_weights:
            path = resolve_weights_file(arch, model.weights)
            return [{"path": str(path), "present": path.is_file(), "source": "torchvision's cache or a local file"}]
        if model.weights != "imagenet":
            path = Path(model.weights).expanduser()
            return [{"path": str(path), "present": path.is_file(), "source": "a local file"}]
        app = application(model.name)
        path = keras_models_dir() / app.weights_file_for(image_size)
        if download and not path.is_file():
            create_base(app, "imagenet", (image_size, image_size, 3))
        return [{"path": str(path), "present": path.is_file(), "source": "keras.applications (downloads it)"}]

    def list_models(self) -> dict[str, str]:
        """Registered model names with a one-line description."""
        return {name: entry.description for name, entry in sorted(model_entries().items())}

    def describe(self, model: ModelSpec, input_shape: tuple[int, int, int], num_classes: int) -> ModelDescription:
        """Counts (every layer trainable), ordered group facts and sharing facts; no pretrained weights load."""
        keras.backend.clear_session()
        built = build_model(model.model_copy(update={"weights": "none"}), input_shape, num_classes)
        shared = model.name in SHARED_ARCHITECTURES
        return ModelDescription(
            params=count_params(built),
            groups=group_facts(built),
            sequential=built.sequential,
            init_slots=init_slots(built) if shared else [],
            parity_note=parity_note(model.name),
            layer_costs=layer_costs(built),
        )

    def weights_problem(self, model: ModelSpec, input_shape: tuple[int, int, int], num_classes: int) -> str | None:
        """Why ``model.weights`` does not load into ``model`` (built once with them), else None."""
        keras.backend.clear_session()
        try:
            build_model(model, input_shape, num_classes)
        except Exception as exc:  # noqa: BLE001 - whatever the loader raises is the file's problem
            return one_line(str(exc)) or type(exc).__name__
        return None

    def open_session(
        self, request: BuildRequest, plan: TrainingPlan, initial_weights: list[np.ndarray] | None, run_dir: Path
    ) -> KerasSession:
        """Seed Keras, build ``request``'s model, apply ``plan`` (LoRA adapters included) and return its session."""
        return open_keras_session(request, plan, initial_weights)

"""``KerasSession``: one built Keras model and its optimizer, driven step by step by the core's epoch loop.

Every step is one ``train_on_batch`` / ``predict_on_batch`` call (no ``fit``, no callbacks). Whenever what
trains changes, the model is recompiled around a new :class:`~keras_impl.optim.GroupOptimizer` built over
the current trainable variables; variables that were training already keep their state (by path).
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import keras
import numpy as np

from keras_impl import environment
from keras_impl.data import model_input
from keras_impl.feature_cache import prefix_model, suffix_model
from keras_impl.freezing import apply_trainable, configure_batchnorm
from keras_impl.models import BuildOptions, BuiltModel, build_model, get_model_entry
from keras_impl.models.weights import load_shared_weights, save_named_weights
from keras_impl.optim import GroupOptimizer
from keras_impl.params import count_params
from keras_impl.peft import merge_lora
from keras_impl.precision import dtype_policy, policy_name
from keras_impl.shared_weights import export_weights, load_weights
from keras_impl.state import load_state, save_state, weights_finite
from suite.architectures.catalog import architecture
from suite.runners.protocol import ParamCounts, TrainableSet
from suite.spec.models import ExperimentSpec


class KerasSession:
    """The :class:`~suite.runners.protocol.TrainingSession` of the Keras runner (see that protocol).

    With mixup/CutMix the core sends (N, C) class probabilities: the model is then compiled with categorical
    cross-entropy and accuracy against the arg-max class, as torch's cross-entropy takes probability targets.
    """

    accepts_soft_labels = True

    def __init__(self, spec: ExperimentSpec, built: BuiltModel, scope: contextlib.ExitStack, facts: dict) -> None:
        self.spec = spec
        self.built = built
        self._scope = scope
        self._facts = facts
        self._active = built.model
        self._cached: list[str] | None = None
        self._prefixes: dict[tuple[str, ...], Any] = {}
        self._optimizer: GroupOptimizer | None = None
        self._rates: dict[str, float] = dict.fromkeys(built.group_names, 0.0)
        self._group_of = {v.path: name for name, layers in built.groups.items() for x in layers for v in x.weights}

    def track_new_variables(self) -> None:
        """Map variables created after construction (LoRA adapters) to their layer groups."""
        self._group_of = {v.path: name for name, layers in self.built.groups.items() for x in layers for v in x.weights}

    def prepare_for_inference(self) -> bool:  # noqa: D102
        return merge_lora(self.built)

    def synchronize(self) -> None:  # noqa: D102
        environment.synchronize()

    def begin_phase(self, trainable: TrainableSet, rates: dict[str, float]) -> None:  # noqa: D102
        apply_trainable(self.built, trainable)
        self._rates = dict(rates)
        self._compile(keep_state=False)

    def set_trainable(self, trainable: TrainableSet) -> None:  # noqa: D102
        apply_trainable(self.built, trainable)
        self._compile(keep_state=True)

    def set_learning_rates(self, rates: dict[str, float]) -> None:  # noqa: D102
        self._rates = dict(rates)
        if self._optimizer is not None:
            self._optimizer.set_rates(self._rates)

    def _compile(self, keep_state: bool) -> None:
        """Compile the active model around a fresh optimizer; with ``keep_state`` it takes over the old state."""
        state = self._optimizer.state_by_path() if keep_state and self._optimizer is not None else {}
        optimizer = GroupOptimizer(
            self.spec.optimizer, self.built.group_names, self._group_of, self.spec.training.grad_clip
        )
        optimizer.build(self._active.trainable_variables)
        optimizer.load_state(state, self._rates)
        augment = self.spec.dataset.augment
        soft = augment is not None and augment.soft_labels
        loss_class = keras.losses.CategoricalCrossentropy if soft else keras.losses.SparseCategoricalCrossentropy
        metric_class = keras.metrics.CategoricalAccuracy if soft else keras.metrics.SparseCategoricalAccuracy
        self._active.compile(
            optimizer=optimizer,
            loss=loss_class(from_logits=True),
            metrics=[metric_class(name="accuracy")],
            jit_compile=True if self.spec.training.compile else "auto",
        )
        self._optimizer = optimizer

    def _inputs(self, inputs: np.ndarray) -> np.ndarray:
        return inputs if self._cached is not None else model_input(self.built, inputs)

    def train_step(self, inputs: np.ndarray, labels: np.ndarray) -> tuple[float, int]:  # noqa: D102
        logs = self._active.train_on_batch(self._inputs(inputs), labels, return_dict=True)
        return float(logs["loss"]), int(round(float(logs["accuracy"]) * len(labels)))

    def predict(self, inputs: np.ndarray) -> np.ndarray:  # noqa: D102
        return np.asarray(self._active.predict_on_batch(self._inputs(inputs)), dtype=np.float32)

    def prefix_features(self, groups: list[str], inputs: np.ndarray) -> np.ndarray:  # noqa: D102
        key = tuple(groups)
        if key not in self._prefixes:
            self._prefixes[key] = prefix_model(self.built, list(groups))
        features = self._prefixes[key].predict_on_batch(model_input(self.built, inputs))
        return np.asarray(features, dtype=np.float32)

    def use_prefix_cache(self, groups: list[str] | None) -> None:  # noqa: D102
        self._cached = list(groups) if groups else None
        self._active = suffix_model(self.built, self._cached) if self._cached else self.built.model
        if self._optimizer is not None:
            self._compile(keep_state=True)

    def snapshot(self) -> list[np.ndarray]:  # noqa: D102
        return [np.array(keras.ops.convert_to_numpy(v)) for v in self.built.model.weights]

    def restore(self, snapshot: list[np.ndarray]) -> None:  # noqa: D102
        for variable, value in zip(self.built.model.weights, snapshot, strict=True):
            variable.assign(value)

    def save_checkpoint(self, directory: Path, name: str) -> Path:  # noqa: D102
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{name}.weights.h5"
        save_named_weights(self.built.model, path)
        return path

    def save_state(self, directory: Path, snapshots: dict[str, Any]) -> None:  # noqa: D102
        save_state(directory, self.built.model, self._optimizer, snapshots)

    def load_state(self, directory: Path) -> dict[str, Any]:  # noqa: D102
        snapshots = load_state(directory, self.built.model, self._optimizer)
        if self._optimizer is not None:
            self._rates = self._optimizer.current_rates()
        return snapshots

    def weights_finite(self) -> bool:  # noqa: D102
        return weights_finite(self.built.model)

    def export_weights(self) -> list[np.ndarray]:  # noqa: D102
        return export_weights(self.built)

    def param_counts(self) -> ParamCounts:  # noqa: D102
        return count_params(self.built)

    def details(self) -> dict[str, Any]:  # noqa: D102
        jit = getattr(self._active, "jit_compile", None) if self._optimizer is not None else None
        return {**self._facts, **self.built.notes, "jit_compile": jit}

    def environment(self) -> dict[str, Any]:  # noqa: D102
        return environment.environment()

    def close(self) -> None:  # noqa: D102
        self._scope.close()
        keras.backend.clear_session()


def open_keras_session(
    spec: ExperimentSpec,
    hyperparameters: dict[str, float],
    input_shape: tuple[int, int, int],
    num_classes: int,
    initial_weights: list[np.ndarray] | None,
) -> KerasSession:
    """Seed Keras, enter determinism / dtype policy / device for the session's life, build and set up the model."""
    keras.backend.clear_session()
    keras.utils.set_random_seed(spec.seed)
    scope = contextlib.ExitStack()
    try:
        determinism = scope.enter_context(environment.determinism(spec.training.deterministic))
        policy = scope.enter_context(dtype_policy(policy_name(spec.training.precision)))
        if spec.training.device == "cpu":
            scope.enter_context(keras.device("cpu"))  # "cpu:0" makes Keras-torch variables non-leaf copies
        deferred = initial_weights is not None and spec.model.weights != "none"  # the file loads over the draw
        built = _build(spec, input_shape, num_classes, "none" if deferred else spec.model.weights)
        configure_batchnorm(built, hyperparameters["bn_momentum"], hyperparameters["bn_epsilon"])
        if initial_weights is not None:
            load_weights(built, initial_weights)
        if deferred:
            load_shared_weights(built, architecture(spec.model.name), spec.model.weights)
    except BaseException:
        scope.close()
        raise
    facts = {"engine": environment.engine_name(), "dtype_policy": policy, "determinism": determinism}
    return KerasSession(spec, built, scope, facts)


def _build(spec: ExperimentSpec, input_shape: tuple[int, int, int], num_classes: int, weights: str) -> BuiltModel:
    pretrained = get_model_entry(spec.model.name).pretrained
    options = BuildOptions(preprocess_input=pretrained and spec.dataset.normalization == "none")
    return build_model(spec.model.model_copy(update={"weights": weights}), input_shape, num_classes, options)

"""``KerasSession``: one built Keras model and its optimizer, driven step by step by the core's epoch loop.

Every step is one call of the compiled train function through :mod:`keras_impl.steps` (``train_on_batch``'s
computation without its per-call walks over the layers) or one ``predict_on_batch`` call (no ``fit``, no
callbacks). Whenever what trains changes, the model is recompiled around a new
:class:`~keras_impl.optim.GroupOptimizer` built over the current trainable variables; variables that were
training already keep their state (by path). Every method but :meth:`KerasSession.train_step` first flushes the
steps into the model's variables (:func:`_after_steps`), so nothing reads or writes a variable behind them.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import keras
import numpy as np

from keras_impl.data import DeviceBatch, DeviceFeed, model_input
from keras_impl.efficiency import peak_memory_bytes, reset_peak_memory
from keras_impl.environment import engine_name, environment, gpu_names
from keras_impl.feature_cache import prefix_model, suffix_model
from keras_impl.freezing import apply_trainable, configure_batchnorm
from keras_impl.models import BuildOptions, BuiltModel, build_model, get_model_entry
from keras_impl.models.weights import load_shared_weights, save_named_weights
from keras_impl.optim import GroupOptimizer, build_optimizer
from keras_impl.params import count_params
from keras_impl.peft import attach_lora, merge_lora
from keras_impl.precision import dtype_policy, resolve_precision, synchronize
from keras_impl.seeding import determinism_note, seed_framework
from keras_impl.shared_weights import export_weights, load_weights
from keras_impl.state import load_state, save_state, weights_finite
from keras_impl.steps import TrainSteps, train_steps
from suite.architectures.catalog import architecture
from suite.plan import BuildRequest, TrainingPlan
from suite.runners.protocol import ParamCounts, TrainableSet

Method = TypeVar("Method", bound=Callable[..., Any])


def _after_steps(method: Method) -> Method:
    """The session method runs on variables that hold every step made so far."""

    @functools.wraps(method)
    def flushed(self: KerasSession, *args: Any, **kwargs: Any) -> Any:
        if self._steps is not None:
            self._steps.flush()
        return method(self, *args, **kwargs)

    return flushed  # type: ignore[return-value]


class KerasSession:
    """The :class:`~suite.runners.protocol.TrainingSession` of the Keras runner (see that protocol).

    With mixup/CutMix the core sends (N, C) class probabilities: the model is then compiled with categorical
    cross-entropy and accuracy against the arg-max class, as torch's cross-entropy takes probability targets.
    """

    def __init__(self, plan: TrainingPlan, built: BuiltModel, scope: contextlib.ExitStack, facts: dict) -> None:
        self.plan = plan
        self.built = built
        self._scope = scope
        self._facts = facts
        self._active = built.model
        self._cached: list[str] | None = None
        self._prefixes: dict[tuple[str, ...], Any] = {}
        self._optimizer: GroupOptimizer | None = None
        self._steps: TrainSteps | None = None
        self._rates: dict[str, float] = dict.fromkeys(built.group_names, 0.0)
        self._group_of = {v.path: name for name, layers in built.groups.items() for x in layers for v in x.weights}
        self.device_feed = _device_feed(plan, built)

    @_after_steps
    def prepare_for_inference(self) -> bool:  # noqa: D102
        return merge_lora(self.built)

    def reset_peak_memory(self) -> bool:
        """Reset the accelerator allocator's peak (False on the CPU: the core measures the resident set)."""
        return self.plan.execution.device != "cpu" and reset_peak_memory()

    def peak_memory_bytes(self) -> int | None:
        """The accelerator allocator's peak since :meth:`reset_peak_memory` (None on the CPU)."""
        return peak_memory_bytes() if self.plan.execution.device != "cpu" else None

    @_after_steps
    def synchronize(self) -> None:  # noqa: D102
        synchronize()

    @_after_steps
    def begin_phase(self, trainable: TrainableSet, rates: dict[str, float]) -> None:  # noqa: D102
        apply_trainable(self.built, trainable, self.plan.peft)
        self._rates = dict(rates)
        self._compile(keep_state=False)

    @_after_steps
    def set_trainable(self, trainable: TrainableSet) -> None:  # noqa: D102
        apply_trainable(self.built, trainable, self.plan.peft)
        self._compile(keep_state=True)

    @_after_steps
    def set_learning_rates(self, rates: dict[str, float]) -> None:  # noqa: D102
        self._rates = dict(rates)
        if self._optimizer is not None:
            self._optimizer.set_rates(self._rates)

    def _compile(self, keep_state: bool) -> None:
        """Compile the active model around a fresh optimizer; with ``keep_state`` it takes over the old state."""
        state = self._optimizer.state_by_path() if keep_state and self._optimizer is not None else {}
        variables = self._active.trainable_variables
        optimizer = build_optimizer(
            self.plan.optimizer, self.built.group_names, self._group_of, variables, self._rates, state
        )
        soft = self.plan.loss.soft_labels
        loss_class = keras.losses.CategoricalCrossentropy if soft else keras.losses.SparseCategoricalCrossentropy
        metric_class = keras.metrics.CategoricalAccuracy if soft else keras.metrics.SparseCategoricalAccuracy
        self._active.compile(
            optimizer=optimizer,
            loss=loss_class(from_logits=True),
            metrics=[metric_class(name="accuracy")],
            jit_compile=True if self.plan.execution.compile else "auto",
        )
        self._optimizer = optimizer
        self._steps = train_steps(self._active)

    def _inputs(self, inputs: np.ndarray | DeviceBatch) -> Any:
        return inputs if self._cached is not None else model_input(self.built, inputs)

    def train_step(self, inputs: np.ndarray | DeviceBatch, labels: np.ndarray) -> tuple[float, int]:  # noqa: D102
        return self._steps.run(self._inputs(inputs), labels)

    @_after_steps
    def predict(self, inputs: np.ndarray | DeviceBatch) -> np.ndarray:  # noqa: D102
        return np.asarray(self._active.predict_on_batch(self._inputs(inputs)), dtype=np.float32)

    @_after_steps
    def prefix_features(self, groups: list[str], inputs: np.ndarray | DeviceBatch) -> np.ndarray:  # noqa: D102
        key = tuple(groups)
        if key not in self._prefixes:
            self._prefixes[key] = prefix_model(self.built, list(groups))
        features = self._prefixes[key].predict_on_batch(model_input(self.built, inputs))
        return np.asarray(features, dtype=np.float32)

    @_after_steps
    def use_prefix_cache(self, groups: list[str] | None) -> None:  # noqa: D102
        self._cached = list(groups) if groups else None
        self._active = suffix_model(self.built, self._cached) if self._cached else self.built.model
        if self._optimizer is not None:
            self._compile(keep_state=True)

    @_after_steps
    def snapshot(self) -> list[np.ndarray]:  # noqa: D102
        return [np.array(keras.ops.convert_to_numpy(v)) for v in self.built.model.weights]

    @_after_steps
    def restore(self, snapshot: list[np.ndarray]) -> None:  # noqa: D102
        for variable, value in zip(self.built.model.weights, snapshot, strict=True):
            variable.assign(value)

    @_after_steps
    def save_checkpoint(self, directory: Path, name: str) -> Path:  # noqa: D102
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{name}.weights.h5"
        save_named_weights(self.built.model, path)
        return path

    @_after_steps
    def save_state(self, directory: Path, snapshots: dict[str, Any]) -> None:  # noqa: D102
        save_state(directory, self.built.model, self._optimizer, snapshots)

    @_after_steps
    def load_state(self, directory: Path) -> dict[str, Any]:  # noqa: D102
        snapshots = load_state(directory, self.built.model, self._optimizer)
        if self._optimizer is not None:
            self._rates = self._optimizer.current_rates()
        return snapshots

    @_after_steps
    def weights_finite(self) -> bool:  # noqa: D102
        return weights_finite(self.built.model)

    @_after_steps
    def export_weights(self) -> list[np.ndarray]:  # noqa: D102
        return export_weights(self.built)

    def param_counts(self) -> ParamCounts:  # noqa: D102
        return count_params(self.built)

    def details(self) -> dict[str, Any]:  # noqa: D102
        jit = getattr(self._active, "jit_compile", None) if self._optimizer is not None else None
        return {**self._facts, **self.built.notes, "jit_compile": jit, "device_feed": self.device_feed is not None}

    def environment(self) -> dict[str, Any]:  # noqa: D102
        return environment()

    @_after_steps
    def close(self) -> None:  # noqa: D102
        if self.device_feed is not None:
            self.device_feed.release()
        self._scope.close()
        keras.backend.clear_session()


def open_keras_session(
    request: BuildRequest, plan: TrainingPlan, initial_weights: list[np.ndarray] | None
) -> KerasSession:
    """Seed Keras, enter determinism / dtype policy / device for the session's life, build and set up the model."""
    engine = plan.execution.engine
    if engine is not None and engine != engine_name():
        raise ValueError(f"the plan runs on Keras engine {engine!r}, this process on {engine_name()!r}")
    keras.backend.clear_session()
    scope = contextlib.ExitStack()
    try:
        scope.callback(seed_framework(plan.seed, plan.execution.deterministic))
        policy = scope.enter_context(dtype_policy(resolve_precision(plan.execution.precision)))
        if plan.execution.device == "cpu":
            scope.enter_context(keras.device("cpu"))  # "cpu:0" makes Keras-torch variables non-leaf copies
        model = request.model
        deferred = initial_weights is not None and model.weights != "none"  # the file loads over the draw
        built = _build(request, "none" if deferred else model.weights)
        configure_batchnorm(built, plan.batchnorm.momentum, plan.batchnorm.epsilon)
        if initial_weights is not None:
            load_weights(built, initial_weights)
        if deferred:
            load_shared_weights(built, architecture(model.name), model.weights)
        attach_lora(built, plan.peft)
    except BaseException:
        scope.close()
        raise
    facts = {
        "engine": engine_name(),
        "dtype_policy": policy,
        "determinism": determinism_note(plan.execution.deterministic),
    }
    return KerasSession(plan, built, scope, facts)


def _device_feed(plan: TrainingPlan, built: BuiltModel) -> DeviceFeed | None:
    """A device feed when the session trains on an accelerator and the model takes the core's normalised images.

    A model with its own ``preprocess_input`` (keras.applications fed 0..255) keeps the float32 numpy batches.
    """
    if plan.execution.device == "cpu" or built.preprocess is not None or not gpu_names():
        return None
    return DeviceFeed()


def _build(request: BuildRequest, weights: str) -> BuiltModel:
    pretrained = get_model_entry(request.model.name).pretrained
    options = BuildOptions(preprocess_input=pretrained and request.raw_pixels)
    model = request.model.model_copy(update={"weights": weights})
    return build_model(model, request.input_shape, request.num_classes, options)

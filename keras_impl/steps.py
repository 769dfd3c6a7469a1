"""Train steps of a compiled Keras model, at the cost of ``fit``'s own steps.

``train_on_batch`` does per call what ``fit`` does once per epoch: it walks every layer to check the model is
built, walks them again to reset the metrics, and on JAX reads every variable into a state and writes it back.
On a 150-layer network those walks cost more than a frozen network's step. :func:`train_steps` returns a driver
that makes the first step through ``train_on_batch`` (it builds the model, the metrics and the train function)
and every later one as ``fit`` makes its steps: the train function on the batch, the loss and accuracy metrics
reset from a list taken once, and on JAX the state carried from step to step in arrays.

The computation is ``train_on_batch``'s: the same train function on the same batch from the same state, so the
weights are bit for bit those of ``train_on_batch`` (``tests/keras_impl/test_steps.py``). On JAX the model's
variables are behind the carried state until :meth:`TrainSteps.flush`; the session flushes before anything reads
or writes a variable (evaluation, snapshots, checkpoints, learning rates, freezing).
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np


class TrainSteps:
    """``train_on_batch`` for every step (TensorFlow: its per-call bookkeeping is already small)."""

    def __init__(self, model: keras.Model) -> None:
        self.model = model

    def run(self, inputs: Any, labels: np.ndarray) -> tuple[float, int]:
        """One optimizer step on (``inputs``, ``labels``): (mean loss, correctly classified count) of this batch."""
        return _loss_and_correct(self._step(inputs, labels), len(labels))

    def _step(self, inputs: Any, labels: np.ndarray) -> dict[str, Any]:
        """The step's logs: the compiled loss and accuracy metrics over this batch alone."""
        return self.model.train_on_batch(inputs, labels, return_dict=True)

    def flush(self) -> None:
        """Bring the model's variables up to date with the steps made (nothing to do here)."""


class _TorchTrainSteps(TrainSteps):
    """Keras on torch: the train function called directly, as ``fit`` calls it, after a first built step."""

    def __init__(self, model: keras.Model) -> None:
        super().__init__(model)
        self._metrics: list[Any] | None = None

    def _step(self, inputs: Any, labels: np.ndarray) -> dict[str, Any]:
        if self._metrics is None:
            logs = super()._step(inputs, labels)
            self._metrics = list(self.model.metrics)
            return logs
        for metric in self._metrics:
            metric.reset_state()
        return self.model.train_function([(inputs, labels, None)])


class _JaxTrainSteps(TrainSteps):
    """Keras on JAX: the jitted train function on a state carried between steps, as ``fit`` carries it."""

    def __init__(self, model: keras.Model) -> None:
        super().__init__(model)
        self._variables: tuple[list[Any], list[Any], list[Any]] | None = None
        self._metric_variables: list[Any] = []
        self._fresh_metrics: list[np.ndarray] = []
        self._state: tuple[list[Any], list[Any], list[Any]] | None = None

    def _step(self, inputs: Any, labels: np.ndarray) -> dict[str, Any]:
        import jax

        if self._variables is None:
            logs = super()._step(inputs, labels)
            model = self.model
            self._variables = (model.trainable_variables, model.non_trainable_variables, model.optimizer.variables)
            self._metric_variables = list(model.metrics_variables)
            model.reset_metrics()
            self._fresh_metrics = [np.array(keras.ops.convert_to_numpy(v.value)) for v in self._metric_variables]
            return logs
        if self._state is None:
            self._state = tuple([v.value for v in group] for group in self._variables)
        state = (*self._state, [jax.device_put(np.array(value)) for value in self._fresh_metrics])
        data = (jax.device_put(inputs), jax.device_put(labels), None)
        logs, (trainable, non_trainable, optimizer, _metrics) = self.model.train_function(state, iter([data]))
        self._state = (trainable, non_trainable, optimizer)
        return logs

    def flush(self) -> None:  # noqa: D102
        if self._state is None or self._variables is None:
            return
        for variables, values in zip(self._variables, self._state, strict=True):
            for variable, value in zip(variables, values, strict=True):
                variable.assign(value)
        self._state = None


def train_steps(model: keras.Model) -> TrainSteps:
    """The step driver of this process's engine for the compiled ``model``; a new one after every compile."""
    engine = keras.backend.backend()
    if engine == "jax":
        return _JaxTrainSteps(model)
    if engine == "torch":
        return _TorchTrainSteps(model)
    return TrainSteps(model)


def _loss_and_correct(logs: dict[str, Any], size: int) -> tuple[float, int]:
    """(loss, correct count) from a step's logs; the accuracy metric is a mean over this batch's ``size`` images."""
    flat: dict[str, Any] = {}
    for key, value in logs.items():
        flat.update(value if isinstance(value, dict) else {key: value})
    loss, accuracy = (float(keras.ops.convert_to_numpy(flat[name])) for name in ("loss", "accuracy"))
    return loss, int(round(accuracy * size))

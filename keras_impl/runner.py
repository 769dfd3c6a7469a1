"""The Keras runner: builds the model, trains it with ``model.fit`` and returns the suite's RunOutput."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Any

import keras
import numpy as np

from keras_impl import backend_info
from keras_impl.checks import check_spec
from keras_impl.data import SplitInputs, make_inputs
from keras_impl.fitting import FitInputs, PhaseResult, train_all_phases
from keras_impl.models import BuildOptions, BuiltModel, build_model, get_model_entry, model_entries
from keras_impl.params import count_params
from keras_impl.precision import dtype_policy, policy_name
from suite.data.bundle import DataBundle
from suite.runners.progress import ProgressReporter
from suite.runners.protocol import ParamCounts, RunOutput, Timing
from suite.spec.models import ExperimentSpec, ModelSpec


class KerasRunner:
    """Runner protocol implementation for Keras 3 on its configured backend (TensorFlow, JAX or torch)."""

    name = "keras"

    def check(self, spec: ExperimentSpec) -> list[str]:
        """Problems that stop ``spec`` from running here (empty when it can run)."""
        return check_spec(spec)

    def list_models(self) -> dict[str, str]:
        """Registered model names with a one-line description."""
        return {name: entry.description for name, entry in sorted(model_entries().items())}

    def describe(self, model: ModelSpec, input_shape: tuple[int, int, int], num_classes: int) -> ParamCounts:
        """Parameter counts of ``model`` with every layer trainable (no pretrained weights are loaded)."""
        keras.backend.clear_session()
        return count_params(build_model(model.model_copy(update={"weights": "none"}), input_shape, num_classes))

    def run(self, spec: ExperimentSpec, data: DataBundle, run_dir: Path, progress: ProgressReporter) -> RunOutput:
        """Train ``spec`` on ``data``; checkpoints and TensorBoard logs go under ``run_dir``."""
        problems = self.check(spec)
        if problems:
            raise ValueError("spec cannot run on the keras runner: " + "; ".join(problems))
        keras.backend.clear_session()
        keras.utils.set_random_seed(spec.seed)
        extra: dict[str, Any] = {"keras_backend": backend_info.backend_name()}
        with (
            backend_info.determinism(spec.training.deterministic) as determinism,
            dtype_policy(policy_name(spec.training.precision)) as policy,
            _device_scope(spec.training.device),
        ):
            extra.update(dtype_policy=policy, determinism=determinism)
            built = _build(spec, data)
            fit_inputs, test = _inputs(spec, data)
            phases = train_all_phases(spec, built, fit_inputs, Path(run_dir), progress)
            scores, eval_ips = _timed_predict(built.model, test, data, fit_inputs.eval_batch_size)
        if spec.training.checkpoint:
            built.model.save_weights(str(Path(run_dir) / "checkpoints" / "last.weights.h5"))
        extra.update(
            built.notes,
            input_mode="streamed" if test.streamed else "arrays",
            phases=[phase.summary for phase in phases],
        )
        return RunOutput(
            history=[row for phase in phases for row in phase.rows],
            test_labels=data.test.labels.astype(np.int64),
            test_scores=scores,
            params=count_params(built),
            timing=_timing(phases, eval_ips),
            environment=backend_info.environment(),
            best_epoch=phases[-1].best_epoch,
            extra=extra,
        )


def _build(spec: ExperimentSpec, data: DataBundle) -> BuiltModel:
    pretrained = get_model_entry(spec.model.name).pretrained
    options = BuildOptions(
        bn_mode=spec.strategy.bn_mode,
        preprocess_input=pretrained and spec.dataset.normalization == "none",
    )
    return build_model(spec.model, data.input_shape, data.num_classes, options)


def _inputs(spec: ExperimentSpec, data: DataBundle) -> tuple[FitInputs, SplitInputs]:
    training = spec.training
    eval_batch_size = training.eval_batch_size or training.batch_size
    common = {"seed": spec.seed, "workers": training.num_workers}
    fit_inputs = FitInputs(
        train=make_inputs(data, data.train, training.batch_size, shuffle=True, **common),
        val=make_inputs(data, data.val, eval_batch_size, shuffle=False, **common),
        batch_size=training.batch_size,
        eval_batch_size=eval_batch_size,
    )
    return fit_inputs, make_inputs(data, data.test, eval_batch_size, shuffle=False, **common)


def _device_scope(device: str) -> Any:
    return keras.device("cpu:0") if device == "cpu" else contextlib.nullcontext()


def _timed_predict(model: Any, test: SplitInputs, data: DataBundle, batch_size: int) -> tuple[np.ndarray, float]:
    """Test-set probabilities and images/s; one batch is predicted first so tracing is not timed."""
    model.predict(data.preprocessing.apply(data.test.images[:batch_size]), batch_size=batch_size, verbose=0)
    started = time.perf_counter()
    if test.streamed:
        scores = model.predict(test.x, verbose=0)
    else:
        scores = model.predict(test.x, batch_size=batch_size, verbose=0)
    seconds = time.perf_counter() - started
    return np.asarray(scores, dtype=np.float32), test.size / seconds if seconds > 0 else 0.0


def _timing(phases: list[PhaseResult], eval_images_per_second: float) -> Timing:
    """Steady-state train images/s over all phases (each phase's warm-up excluded)."""
    steady_seconds = sum(phase.steady_images / phase.meter.images_per_second for phase in phases if phase.steady_images)
    steady_images = sum(phase.steady_images for phase in phases)
    if steady_seconds > 0:
        train_ips = steady_images / steady_seconds
    else:
        train_ips = float(np.mean([phase.meter.images_per_second for phase in phases]))
    epoch_seconds = [row["seconds"] for phase in phases for row in phase.rows]
    return Timing(
        train_seconds=sum(phase.seconds for phase in phases),
        train_images_per_second=train_ips,
        eval_images_per_second=eval_images_per_second,
        epoch_seconds_mean=float(np.mean(epoch_seconds)),
        warmup_batches_excluded=sum(phase.meter.excluded_batches for phase in phases),
    )

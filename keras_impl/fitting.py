"""Training phases: compile, attach callbacks, ``model.fit``; phase 2 of a fine-tuning recipe recompiles."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras

from keras_impl.callbacks import HistoryRecorder, ThroughputCallback
from keras_impl.data import SplitInputs
from keras_impl.freezing import apply_freezing, frozen_groups, unfreeze_for_finetune
from keras_impl.models import BuiltModel
from keras_impl.optim import make_optimizer
from keras_impl.params import count_params
from keras_impl.schedules import schedule_callbacks
from suite.runners.progress import ProgressReporter
from suite.spec.models import ExperimentSpec
from suite.timing import ThroughputMeter

WARMUP_BATCHES = 2


@dataclass
class PhaseResult:
    """What one ``model.fit`` call produced."""

    phase: int
    rows: list[dict[str, float]]
    seconds: float
    meter: ThroughputMeter
    steady_images: int
    best_epoch: int
    summary: dict[str, Any] = field(default_factory=dict)


@dataclass
class FitInputs:
    """Train and validation inputs plus the batch sizes they are read with."""

    train: SplitInputs
    val: SplitInputs
    batch_size: int
    eval_batch_size: int


@dataclass(frozen=True)
class Phase:
    """One ``model.fit`` call: its number, LR and global epoch range."""

    number: int
    lr: float
    first_epoch: int
    epochs: int
    total_epochs: int


def train_all_phases(
    spec: ExperimentSpec, built: BuiltModel, inputs: FitInputs, run_dir: Path, progress: ProgressReporter
) -> list[PhaseResult]:
    """Phase 1 (strategy.freeze at optimizer.lr), then phase 2 when ``strategy.finetune`` is set."""
    frozen = frozen_groups(spec.strategy, built.group_names)
    apply_freezing(built, frozen)
    finetune = spec.strategy.finetune
    total_epochs = spec.training.epochs + (finetune.epochs if finetune else 0)
    first = _fit_phase(
        spec, built, inputs, run_dir, progress, Phase(1, spec.optimizer.lr, 0, spec.training.epochs, total_epochs)
    )
    first.summary["frozen_groups"] = frozen
    if finetune is None:
        return [first]
    unfrozen = unfreeze_for_finetune(built, finetune)
    next_epoch = len(first.rows)
    progress.message(
        f"epoch {next_epoch}: fine-tuning, unfroze {len(unfrozen)} layers, "
        f"{count_params(built).trainable:,} trainable parameters, lr {finetune.lr:g}"
    )
    second = _fit_phase(
        spec,
        built,
        inputs,
        run_dir,
        progress,
        Phase(2, finetune.lr, next_epoch, finetune.epochs, next_epoch + finetune.epochs),
    )
    second.summary["unfrozen_layers"] = unfrozen
    return [first, second]


def _fit_phase(
    spec: ExperimentSpec, built: BuiltModel, inputs: FitInputs, run_dir: Path, progress: ProgressReporter, phase: Phase
) -> PhaseResult:
    _compile(spec, built, phase.lr)
    meter = ThroughputMeter(warmup_batches=WARMUP_BATCHES)
    history = HistoryRecorder(progress, phase.total_epochs, phase.number)
    throughput = ThroughputCallback(meter, inputs.train.size, inputs.batch_size, progress)
    stopper = _early_stopping(spec)
    callbacks = [
        *schedule_callbacks(spec.training.scheduler, phase.lr, phase.first_epoch, phase.epochs),
        history,
        throughput,
        *([stopper] if stopper else []),
        *_output_callbacks(spec, run_dir, phase.number),
    ]
    started = time.perf_counter()
    _fit(built.model, inputs, phase, callbacks)
    seconds = time.perf_counter() - started
    restores_best = stopper is not None and stopper.restore_best_weights
    best_epoch = stopper.best_epoch if restores_best else history.rows[-1]["epoch"]
    summary = {
        "phase": phase.number,
        "lr": phase.lr,
        "epochs_run": len(history.rows),
        "trainable": count_params(built).trainable,
        "jit_compile": built.model.jit_compile,
    }
    if stopper is not None:
        summary["stopped_early"] = stopper.stopped_epoch > 0
    return PhaseResult(phase.number, history.rows, seconds, meter, throughput.steady_images, int(best_epoch), summary)


def _fit(model: Any, inputs: FitInputs, phase: Phase, callbacks: list[Any]) -> None:
    """``model.fit`` on arrays (Keras batches and shuffles) or on streamed PyDatasets (they batch themselves)."""
    model.fit(
        inputs.train.x,
        inputs.train.y,
        batch_size=None if inputs.train.streamed else inputs.batch_size,
        epochs=phase.first_epoch + phase.epochs,
        initial_epoch=phase.first_epoch,
        validation_data=inputs.val.x if inputs.val.streamed else (inputs.val.x, inputs.val.y),
        validation_batch_size=None if inputs.val.streamed else inputs.eval_batch_size,
        shuffle=True,
        callbacks=callbacks,
        verbose=0,
    )


def _compile(spec: ExperimentSpec, built: BuiltModel, lr: float) -> None:
    """Compile with sparse categorical cross-entropy; Keras needs this again after ``trainable`` changes."""
    built.model.compile(
        optimizer=make_optimizer(spec.optimizer, lr, spec.training.grad_clip),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        jit_compile=True if spec.training.compile else "auto",
    )


def _early_stopping(spec: ExperimentSpec) -> Any:
    stopping = spec.training.early_stopping
    if stopping is None:
        return None
    return keras.callbacks.EarlyStopping(
        monitor=stopping.monitor,
        patience=stopping.patience,
        min_delta=stopping.min_delta,
        restore_best_weights=stopping.restore_best,
        mode="min" if stopping.monitor == "val_loss" else "max",
    )


def _output_callbacks(spec: ExperimentSpec, run_dir: Path, phase: int) -> list[Any]:
    training = spec.training
    callbacks: list[Any] = []
    if training.checkpoint:
        monitor = training.early_stopping.monitor if training.early_stopping else "val_loss"
        suffix = f"_phase{phase}" if spec.strategy.finetune else ""
        (run_dir / "checkpoints").mkdir(parents=True, exist_ok=True)
        callbacks.append(
            keras.callbacks.ModelCheckpoint(
                str(run_dir / "checkpoints" / f"best{suffix}.weights.h5"),
                monitor=monitor,
                mode="min" if monitor == "val_loss" else "max",
                save_best_only=True,
                save_weights_only=True,
            )
        )
    if training.tensorboard:
        callbacks.append(
            keras.callbacks.TensorBoard(
                log_dir=str(run_dir / "tensorboard"),
                update_freq=training.log_every_n_steps,
                write_graph=False,
            )
        )
    return callbacks

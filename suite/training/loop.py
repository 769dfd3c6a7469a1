"""The epoch loop, written once: it executes a :class:`~suite.plan.TrainingPlan` through a backend's session."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from suite.plan import EarlyStopper, PhasePlan, PlateauController, TrainingPlan
from suite.runners.progress import ProgressReporter
from suite.runners.protocol import TrainingSession
from suite.timing import WARMUP_TRAIN_BATCHES, ThroughputMeter
from suite.training.batches import ArrayInputs, epoch_order
from suite.training.evaluation import evaluate_logits, predict_all
from suite.training.tensorboard import EpochLogger


@dataclass
class LoopSettings:
    """What the loop reads from the spec besides the plan."""

    seed: int
    batch_size: int
    eval_batch_size: int
    run_dir: Path
    checkpoint: bool = False
    record_group_lrs: bool = False
    record_phases: bool = False


@dataclass
class LoopResult:
    """History, which epoch's weights the model holds at the end, and the training-step meter."""

    history: list[dict[str, float]]
    weights_epoch: int
    meter: ThroughputMeter
    orders: list[np.ndarray] = field(default_factory=list)
    plateau_reductions: list[int] = field(default_factory=list)
    stopped_early: bool = False


@dataclass
class _State:
    session: TrainingSession
    plan: TrainingPlan
    settings: LoopSettings
    train: ArrayInputs
    val: ArrayInputs
    progress: ProgressReporter
    logger: EpochLogger | None
    result: LoopResult
    trainable: tuple[str, ...] | None = None
    global_step: int = 0


def train(
    session: TrainingSession,
    plan: TrainingPlan,
    settings: LoopSettings,
    inputs: tuple[ArrayInputs, ArrayInputs],
    progress: ProgressReporter,
    logger: EpochLogger | None = None,
) -> LoopResult:
    """Run every phase of ``plan``; afterwards the session holds the weights the test pass uses."""
    meter = ThroughputMeter(WARMUP_TRAIN_BATCHES, session.synchronize)
    state = _State(session, plan, settings, *inputs, progress, logger, LoopResult([], -1, meter))
    for phase in plan.phases:
        if not _run_phase(state, phase):
            break
    return state.result


def _run_phase(state: _State, phase: PhasePlan) -> bool:
    """Train one phase; False when early stopping ended the run."""
    plan, session = state.plan, state.session
    epochs = [epoch for epoch in plan.epochs if epoch.phase == phase.number]
    stopper = EarlyStopper(_early_stopping(plan))
    plateau = PlateauController(_plateau(plan))
    best: Any = None
    first = epochs[0]
    session.begin_phase(plan.trainable_set(first), first.rates)
    state.trainable = tuple(first.trainable)
    state.result.meter.rewarm()
    for epoch in epochs:
        if tuple(epoch.trainable) != state.trainable:
            session.set_trainable(plan.trainable_set(epoch))
            state.trainable = tuple(epoch.trainable)
            state.result.meter.rewarm()
        if epoch.unfreezes and epoch.epoch_in_phase > 0:
            state.progress.message(f"epoch {epoch.epoch}: unfroze {', '.join(epoch.unfreezes)}")
        rates = {name: rate * plateau.scale for name, rate in epoch.rates.items()}
        session.set_learning_rates(rates)
        row = _run_epoch(state, epoch.epoch, rates, phase.number)
        if stopper.update(epoch.epoch, row):
            best = session.snapshot() if stopper.restore_best else None
            _checkpoint(state, "best")
        _checkpoint(state, "last")
        if plateau.update(epoch.epoch, row):
            state.progress.message(f"epoch {epoch.epoch}: {plateau.monitor} plateaued, LR x{plateau.factor:g}")
        if stopper.should_stop:
            state.progress.message(f"early stopping at epoch {epoch.epoch}: no {stopper.monitor} improvement")
            break
    state.result.plateau_reductions += plateau.reductions
    state.result.weights_epoch = len(state.result.history) - 1
    if best is not None:
        session.restore(best)
        state.result.weights_epoch = stopper.best_epoch
    state.result.stopped_early = stopper.should_stop
    return not stopper.should_stop


def _run_epoch(state: _State, epoch: int, rates: dict[str, float], phase: int) -> dict[str, float]:
    settings, session = state.settings, state.session
    order = epoch_order(settings.seed, epoch, len(state.train))
    state.result.orders.append(order)
    total_batches = -(-len(order) // settings.batch_size)
    state.progress.epoch_start(epoch, len(state.plan.epochs), total_batches)
    started = time.perf_counter()
    loss_sum, correct = 0.0, 0
    batches = state.train.epoch_batches(settings.batch_size, order, epoch)
    for index, (inputs, labels) in enumerate(batches, start=1):
        state.result.meter.start_batch()
        loss, right = session.train_step(inputs, labels)
        state.result.meter.end_batch(len(labels))
        loss_sum, correct = loss_sum + loss * len(labels), correct + right
        state.global_step += 1
        if state.logger is not None:
            state.logger.train_step(state.global_step, loss)
        state.progress.batch_end(index)
    logits, labels = predict_all(session, state.val, settings.eval_batch_size)
    val_loss, val_accuracy = evaluate_logits(logits, labels)
    session.synchronize()
    row = _history_row(state, epoch, rates, phase)
    row.update(
        train_loss=loss_sum / max(len(order), 1),
        train_accuracy=correct / max(len(order), 1),
        val_loss=val_loss,
        val_accuracy=val_accuracy,
        seconds=time.perf_counter() - started,
    )
    if state.train.fingerprint is not None:  # augmented batches: proof that every backend saw the same ones
        row["batch_fingerprint"] = state.train.fingerprint
    state.result.history.append(row)
    if state.logger is not None:
        state.logger.epoch(row)
    state.progress.epoch_end(epoch, dict(row))
    return row


def _history_row(state: _State, epoch: int, rates: dict[str, float], phase: int) -> dict[str, float]:
    row: dict[str, float] = {"epoch": epoch, "lr": rates[state.plan.groups[-1]]}
    if state.settings.record_group_lrs:
        row.update({f"lr_{name}": rate for name, rate in rates.items()})
    if state.settings.record_phases:
        row["phase"] = phase
        row["trainable_params"] = state.session.param_counts().trainable
    return row


def _checkpoint(state: _State, name: str) -> None:
    if state.settings.checkpoint:
        state.session.save_checkpoint(state.settings.run_dir / "checkpoints", name)


def _early_stopping(plan: TrainingPlan) -> Any:
    from suite.spec.models import EarlyStoppingSpec

    return EarlyStoppingSpec.model_validate(plan.early_stopping) if plan.early_stopping else None


def _plateau(plan: TrainingPlan) -> Any:
    from suite.spec.models import SchedulerSpec

    return SchedulerSpec.model_validate(plan.plateau) if plan.plateau else SchedulerSpec()

"""The epoch loop, written once: it executes a :class:`~suite.plan.TrainingPlan` through a backend's session.

After every epoch the loop can write a resume state (:mod:`suite.training.resume`); a run started on a run
directory holding one for the same spec continues from the next epoch. Every step's loss and every epoch's
validation logits are checked: non-finite numbers stop the run as ``diverged``; past ``training.time_limit``
it stops as ``timeout`` (:mod:`suite.training.stops`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from suite.plan import EarlyStopper, EpochPlan, PhasePlan, PlateauController, TrainingPlan
from suite.runners.progress import ProgressReporter
from suite.runners.protocol import TrainingSession, epoch_number
from suite.timing import WARMUP_TRAIN_BATCHES, ThroughputMeter
from suite.training import resume
from suite.training.batches import ArrayInputs, epoch_order, session_batches
from suite.training.evaluation import evaluate_logits, predict_all
from suite.training.stops import Deadline, RunStopped, check_loss, check_validation
from suite.training.tensorboard import EpochLogger

BEST_SNAPSHOT = "best"


@dataclass
class LoopSettings:
    """What the loop reads from the spec besides the plan.

    ``deadline``: ``training.time_limit`` from the worker's start, checked after every batch.
    ``resume``: where the resume state is read and written (None: the run is not resumable).
    ``on_resume(resumed_from_epoch, resumes)``: called once when the loop continues from a resume state.
    ``setup_seconds``: this attempt's one-off work counted as training time (the feature-cache pass).
    ``on_epoch(epoch, row)``: hears each epoch's history row after its resume state is saved (a tuning
    trial's pruner, :mod:`suite.tuning.trial_run`); it may raise :class:`RunStopped` to end the run.
    """

    seed: int
    batch_size: int
    eval_batch_size: int
    run_dir: Path
    checkpoint: bool = False
    record_group_lrs: bool = False
    record_phases: bool = False
    deadline: Deadline | None = None
    resume: resume.ResumeStore | None = None
    on_resume: Callable[[int, int], None] | None = None
    setup_seconds: float = 0.0
    on_epoch: Callable[[int, dict[str, float]], None] | None = None


@dataclass
class LoopResult:
    """History, which epoch's weights the model holds at the end, and the training-step meter.

    ``resumed_from_epoch``: the epoch this attempt started from (None: it started at the beginning);
    ``resumes``: how many times the run continued from a resume state; ``setup_seconds``: the one-off
    work of every attempt (:attr:`LoopSettings.setup_seconds` summed).
    """

    history: list[dict[str, float]]
    weights_epoch: int
    meter: ThroughputMeter
    orders: list[np.ndarray] = field(default_factory=list)
    plateau_reductions: list[int] = field(default_factory=list)
    stopped_early: bool = False
    resumed_from_epoch: int | None = None
    resumes: int = 0
    setup_seconds: float = 0.0


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


@dataclass
class _Phase:
    """The run-time controllers of one phase and the best-weights snapshot early stopping restores."""

    plan: PhasePlan
    stopper: EarlyStopper
    plateau: PlateauController
    best: Any = None


def train(
    session: TrainingSession,
    plan: TrainingPlan,
    settings: LoopSettings,
    inputs: tuple[ArrayInputs, ArrayInputs],
    progress: ProgressReporter,
    logger: EpochLogger | None = None,
) -> LoopResult:
    """Run every phase of ``plan`` (from the resume state, if any); afterwards the session holds the test weights.

    Raises :class:`~suite.training.stops.RunStopped` (with the history so far) on divergence or timeout.
    """
    meter = ThroughputMeter(WARMUP_TRAIN_BATCHES, session.synchronize)
    result = LoopResult([], -1, meter, setup_seconds=settings.setup_seconds)
    state = _State(session, plan, settings, *inputs, progress, logger, result)
    point = settings.resume.load(progress.message) if settings.resume is not None else None
    if point is not None and not 0 <= point.epoch < len(plan.epochs):
        progress.message(f"resume state ignored: its epoch {point.epoch} is not in the plan")
        point = None
    start_phase = plan.epochs[point.epoch].phase if point is not None else 1
    try:
        for phase in plan.phases:
            if phase.number < start_phase:
                continue
            if not _run_phase(state, phase, point if phase.number == start_phase else None):
                break
    except RunStopped as stop:
        stop.history = list(state.result.history)
        stop.resumed_from_epoch, stop.resumes = state.result.resumed_from_epoch, state.result.resumes
        raise
    return state.result


def _run_phase(state: _State, phase: PhasePlan, point: resume.ResumePoint | None) -> bool:
    """Train one phase (the rest of it after ``point``); False when early stopping ended the run."""
    plan, session = state.plan, state.session
    epochs = [epoch for epoch in plan.epochs if epoch.phase == phase.number]
    current = _Phase(phase, EarlyStopper(_early_stopping(plan)), PlateauController(_plateau(plan)))
    first = epochs[0]
    session.begin_phase(plan.trainable_set(first), first.rates)
    state.trainable = tuple(first.trainable)
    state.result.meter.rewarm()
    if point is not None:
        _continue_from(state, current, point)
        epochs = [] if current.stopper.should_stop else [epoch for epoch in epochs if epoch.epoch > point.epoch]
    for epoch in epochs:
        _train_one(state, current, epoch)
        if current.stopper.should_stop:
            number = epoch_number(epoch.epoch)
            state.progress.message(f"early stopping at epoch {number}: no {current.stopper.monitor} improvement")
            break
    stopper = current.stopper
    state.result.plateau_reductions += current.plateau.reductions
    state.result.weights_epoch = len(state.result.history) - 1
    if current.best is not None:
        session.restore(current.best)
        state.result.weights_epoch = stopper.best_epoch
    state.result.stopped_early = stopper.should_stop
    return not stopper.should_stop


def _train_one(state: _State, current: _Phase, epoch: EpochPlan) -> None:
    """One epoch of the plan: trainable set, LRs, steps, validation, controllers, checkpoints, resume state."""
    plan, session = state.plan, state.session
    if tuple(epoch.trainable) != state.trainable:
        session.set_trainable(plan.trainable_set(epoch))
        state.trainable = tuple(epoch.trainable)
        state.result.meter.rewarm()
    if epoch.unfreezes and epoch.epoch_in_phase > 0:
        state.progress.message(f"epoch {epoch_number(epoch.epoch)}: unfroze {', '.join(epoch.unfreezes)}")
    rates = {name: rate * current.plateau.scale for name, rate in epoch.rates.items()}
    session.set_learning_rates(rates)
    row = _run_epoch(state, epoch.epoch, rates, current.plan.number)
    stopper, plateau = current.stopper, current.plateau
    if stopper.update(epoch.epoch, row):
        current.best = session.snapshot() if stopper.restore_best else None
        _checkpoint(state, "best")
    _checkpoint(state, "last")
    if plateau.update(epoch.epoch, row):
        state.progress.message(
            f"epoch {epoch_number(epoch.epoch)}: {plateau.monitor} plateaued, LR x{plateau.factor:g}"
        )
    _save_resume_state(state, current, epoch.epoch)
    if state.settings.on_epoch is not None:
        state.settings.on_epoch(epoch.epoch, dict(row))


def _save_resume_state(state: _State, current: _Phase, epoch: int) -> None:
    """Write everything the loop needs to continue after ``epoch`` (see :mod:`suite.training.resume`)."""
    if state.settings.resume is None:
        return
    rng, rng_arrays = resume.rng_state()
    result = state.result
    core = {
        "epoch": epoch,
        "phase": current.plan.number,
        "global_step": state.global_step,
        "history": result.history,
        "stopper": current.stopper.to_state(),
        "plateau": current.plateau.to_state(),
        "plateau_reductions": result.plateau_reductions,
        "meter": result.meter.to_state(),
        "resumes": result.resumes,
        "setup_seconds": result.setup_seconds,
        "rng": rng,
    }
    orders = {f"order_{index}": order for index, order in enumerate(result.orders)}
    snapshots = {BEST_SNAPSHOT: current.best} if current.best is not None else {}
    state.settings.resume.save(core, {**rng_arrays, **orders}, lambda path: state.session.save_state(path, snapshots))


def _continue_from(state: _State, current: _Phase, point: resume.ResumePoint) -> None:
    """Apply the saved epoch's trainable set and load the saved state; ResumeStateDamaged when it cannot be loaded."""
    try:
        _load_point(state, current, point)
    except Exception as exc:  # a pickle, garbage, another shape: nothing of it can be trusted
        reason = (str(exc).strip().splitlines() or [""])[0][:200]
        raise resume.ResumeStateDamaged(f"{point.directory.name}: {type(exc).__name__}: {reason}") from exc


def _load_point(state: _State, current: _Phase, point: resume.ResumePoint) -> None:
    plan, session, core = state.plan, state.session, point.core
    saved = plan.epochs[point.epoch]
    if tuple(saved.trainable) != state.trainable:
        session.set_trainable(plan.trainable_set(saved))
        state.trainable = tuple(saved.trainable)
    snapshots = session.load_state(point.session_dir)
    current.best = snapshots.get(BEST_SNAPSHOT)
    current.stopper.from_state(core["stopper"])
    current.plateau.from_state(core["plateau"])
    result = state.result
    result.history = [dict(row) for row in core["history"]]
    result.orders = [point.arrays[f"order_{index}"] for index in range(len(result.history))]
    result.plateau_reductions = [int(epoch) for epoch in core["plateau_reductions"]]
    result.meter.from_state(core["meter"])
    result.meter.rewarm()  # a new process rebuilds its step: warm-up again (suite.timing)
    result.resumes = int(core["resumes"]) + 1
    result.resumed_from_epoch = point.epoch + 1
    result.setup_seconds += float(core["setup_seconds"])
    state.global_step = int(core["global_step"])
    resume.set_rng_state(core["rng"], point.arrays)
    state.progress.message(f"resumed from epoch {epoch_number(point.epoch + 1)} (resume {result.resumes})")
    if state.settings.on_resume is not None:
        state.settings.on_resume(result.resumed_from_epoch, result.resumes)


def _run_epoch(state: _State, epoch: int, rates: dict[str, float], phase: int) -> dict[str, float]:
    settings, session = state.settings, state.session
    order = epoch_order(settings.seed, epoch, len(state.train))
    state.result.orders.append(order)
    total_batches = -(-len(order) // settings.batch_size)
    state.progress.epoch_start(epoch, len(state.plan.epochs), total_batches)
    started = time.perf_counter()
    loss_sum, correct = 0.0, 0
    batches = session_batches(session, state.train, settings.batch_size, order, epoch)
    lr = rates[state.plan.groups[-1]]
    for index, (inputs, labels) in enumerate(batches, start=1):
        state.result.meter.start_batch()
        loss, right = session.train_step(inputs, labels)
        state.result.meter.end_batch(len(labels))
        check_loss(loss, epoch, index, lr)
        if settings.deadline is not None:
            settings.deadline.check(epoch, index)
        loss_sum, correct = loss_sum + loss * len(labels), correct + right
        state.global_step += 1
        if state.logger is not None:
            state.logger.train_step(state.global_step, loss)
        state.progress.batch_end(index)
    logits, labels = predict_all(session, state.val, settings.eval_batch_size)
    check_validation(logits, session.weights_finite(), epoch, lr)
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

    return EarlyStoppingSpec.model_validate(asdict(plan.early_stopping)) if plan.early_stopping else None


def _plateau(plan: TrainingPlan) -> Any:
    from suite.spec.models import SchedulerSpec

    return SchedulerSpec(name="plateau", **asdict(plan.plateau)) if plan.plateau else SchedulerSpec()

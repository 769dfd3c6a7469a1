"""The fit: phases of epochs with freezing changes, optimizer, schedule, early stopping and checkpoints."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from suite.runners.progress import ProgressReporter
from suite.spec.models import ExperimentSpec
from suite.timing import ThroughputMeter
from torch_impl.callbacks import BestTracker, save_checkpoint, snapshot
from torch_impl.data import StreamingSplit, TensorSplit
from torch_impl.freezing import set_requires_grad, set_train_mode, unfreeze_targets
from torch_impl.loop import StepContext, evaluate, train_one_epoch
from torch_impl.models import BuiltModel
from torch_impl.optim import EpochScheduler, build_optimizer, head_lr
from torch_impl.precision import Numerics
from torch_impl.tensorboard import TensorBoardLogger


@dataclass(frozen=True)
class Phase:
    """A stretch of epochs with one optimizer: phase 1 trains from the freeze config, phase 2 is the finetune."""

    number: int
    epochs: int
    lr: float
    unfreeze: list[str]
    schedule: dict[int, list[str]]


def plan_phases(spec: ExperimentSpec, names: list[str]) -> list[Phase]:
    """Phase 1 (with the gradual-unfreezing schedule) and, when ``strategy.finetune`` is set, phase 2."""
    strategy = spec.strategy
    schedule = {
        epoch: unfreeze_targets(groups, names, f"strategy.unfreeze_schedule[{epoch}]")
        for epoch, groups in (strategy.unfreeze_schedule or {}).items()
    }
    phases = [Phase(1, spec.training.epochs, spec.optimizer.lr, [], schedule)]
    finetune = strategy.finetune
    if finetune is not None:
        if finetune.unfreeze is None:
            raise ValueError("strategy.finetune.unfreeze_last_layers is Keras-only; give finetune.unfreeze (groups)")
        targets = unfreeze_targets(finetune.unfreeze, names, "strategy.finetune.unfreeze")
        phases.append(Phase(2, finetune.epochs, finetune.lr, targets, {}))
    return phases


@dataclass
class FitState:
    """What the fit reads and updates; ``forward`` is the network training calls (the suffix when cached)."""

    spec: ExperimentSpec
    built: BuiltModel
    numerics: Numerics
    progress: ProgressReporter
    run_dir: Path
    frozen: set[str]
    forward: nn.Module
    train_split: TensorSplit | StreamingSplit
    val_split: TensorSplit | StreamingSplit
    meter: ThroughputMeter
    logger: TensorBoardLogger | None = None
    extra_columns: bool = False
    history: list[dict[str, float]] = field(default_factory=list)
    global_step: int = 0
    weights_epoch: int = -1

    @property
    def total_epochs(self) -> int:
        """Epochs planned over all phases (early stopping may end sooner)."""
        return self.spec.training.epochs + (self.spec.strategy.finetune.epochs if self.spec.strategy.finetune else 0)


def fit(state: FitState, phases: list[Phase]) -> None:
    """Run every phase; afterwards ``state.built`` holds the weights used for testing."""
    generator = torch.Generator().manual_seed(state.spec.seed)
    for phase in phases:
        _run_phase(state, phase, generator)


def _unfreeze(state: FitState, groups: list[str], epoch: int) -> None:
    newly = [name for name in groups if name in state.frozen]
    if not newly:
        return
    state.frozen -= set(newly)
    set_requires_grad(state.built, state.frozen)
    state.progress.message(f"epoch {epoch}: unfroze {', '.join(newly)}")


def _run_phase(state: FitState, phase: Phase, generator: torch.Generator) -> None:
    spec = state.spec
    _unfreeze(state, phase.unfreeze, len(state.history))
    optimizer = build_optimizer(spec.optimizer, state.built, phase.lr, spec.strategy.discriminative_lr)
    context = StepContext(
        state.forward, optimizer, state.numerics, state.meter, state.progress,
        spec.training.grad_clip, state.numerics.grad_scaler(), state.logger, state.global_step,
    )  # fmt: skip
    scheduler = EpochScheduler(spec.training.scheduler, optimizer, phase.epochs)
    stopping = spec.training.early_stopping
    tracker = BestTracker(stopping.monitor, stopping.patience, stopping.min_delta) if stopping else BestTracker()
    best_state = None
    for local_epoch in range(phase.epochs):
        _unfreeze(state, phase.schedule.get(local_epoch, []), len(state.history))
        row = _run_epoch(state, context, phase, generator)
        if tracker.update(int(row["epoch"]), row):
            best_state = snapshot(state.built.module) if stopping and stopping.restore_best else None
            _checkpoint(state, "best.pt", row, tracker.monitor)
        _checkpoint(state, "last.pt", row, tracker.monitor)
        scheduler.step(row)
        if tracker.should_stop:
            state.progress.message(f"early stopping at epoch {int(row['epoch'])}: no {tracker.monitor} improvement")
            break
    state.global_step = context.global_step
    state.weights_epoch = len(state.history) - 1
    if best_state is not None:
        state.built.module.load_state_dict(best_state)
        state.weights_epoch = tracker.best_epoch


def _run_epoch(state: FitState, context: StepContext, phase: Phase, generator: torch.Generator) -> dict[str, float]:
    spec, epoch = state.spec, len(state.history)
    batch_size = spec.training.batch_size
    total_batches = -(-len(state.train_split) // batch_size)
    state.progress.epoch_start(epoch, state.total_epochs, total_batches)
    started = time.perf_counter()
    lr = head_lr(context.optimizer)
    group_lrs = _group_lrs(context, spec)
    set_train_mode(state.built, state.frozen, spec.strategy.bn_mode)
    train_loss, train_accuracy = train_one_epoch(context, state.train_split.batches(batch_size, generator))
    eval_batch = spec.training.eval_batch_size or batch_size
    val_loss, val_accuracy, _, _ = evaluate(state.forward, state.val_split.batches(eval_batch), state.numerics)
    state.numerics.synchronize()
    row: dict[str, float] = {
        "epoch": epoch,
        "train_loss": train_loss,
        "train_accuracy": train_accuracy,
        "val_loss": val_loss,
        "val_accuracy": val_accuracy,
        "lr": lr,
        "seconds": time.perf_counter() - started,
    }
    row.update(group_lrs)
    if state.extra_columns:
        row["phase"] = phase.number
        row["trainable_params"] = sum(p.numel() for p in state.built.module.parameters() if p.requires_grad)
    state.history.append(row)
    if state.logger is not None:
        state.logger.epoch(row)
    state.progress.epoch_end(epoch, {key: float(value) for key, value in row.items()})
    return row


def _group_lrs(context: StepContext, spec: ExperimentSpec) -> dict[str, float]:
    """With discriminative LRs, each group's rate this epoch as ``lr_<group>`` (schedules move them differently)."""
    if spec.strategy.discriminative_lr is None:
        return {}
    return {f"lr_{group['name']}": float(group["lr"]) for group in context.optimizer.param_groups}


def _checkpoint(state: FitState, filename: str, row: dict[str, float], monitor: str) -> None:
    if state.spec.training.checkpoint:
        path = state.run_dir / "checkpoints" / filename
        save_checkpoint(path, state.built.module, int(row["epoch"]), monitor, float(row[monitor]))

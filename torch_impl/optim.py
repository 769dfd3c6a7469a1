"""Optimizer with one parameter group per layer group (discriminative LRs) and per-epoch LR schedules."""

from __future__ import annotations

from typing import Any

import torch
from torch.optim import SGD, Adam, AdamW, Optimizer
from torch.optim.lr_scheduler import CosineAnnealingLR, LinearLR, LRScheduler, ReduceLROnPlateau, SequentialLR, StepLR

from suite.spec.models import DiscriminativeLRSpec, OptimizerSpec, SchedulerSpec
from torch_impl.models import BuiltModel


def group_learning_rates(
    names: list[str], base_lr: float, discriminative: DiscriminativeLRSpec | None
) -> dict[str, float]:
    """Head at ``base_lr``; with discriminative LRs the k-th group before the head gets ``base_lr * lr_mult**k``."""
    if discriminative is None:
        return {name: base_lr for name in names}
    distance = {name: len(names) - 1 - index for index, name in enumerate(names)}
    return {name: base_lr * discriminative.lr_mult ** distance[name] for name in names}


def build_optimizer(
    spec: OptimizerSpec, built: BuiltModel, base_lr: float, discriminative: DiscriminativeLRSpec | None
) -> Optimizer:
    """One param group per layer group, frozen ones included (they get no gradient, so they do not move).

    Holding every parameter from the start lets gradual unfreezing work by toggling
    ``requires_grad``: a newly unfrozen group starts its optimizer state on its first step.
    """
    rates = group_learning_rates(list(built.groups), base_lr, discriminative)
    param_groups: list[dict[str, Any]] = []
    for name, modules in built.groups.items():
        params = [p for module in modules for p in module.parameters()]
        if params:
            param_groups.append({"params": params, "lr": rates[name], "name": name})
    if spec.name == "sgd":
        return SGD(
            param_groups, lr=base_lr, momentum=spec.momentum, nesterov=spec.nesterov, weight_decay=spec.weight_decay
        )
    optimizer_class = AdamW if spec.name == "adamw" else Adam
    return optimizer_class(param_groups, lr=base_lr, weight_decay=spec.weight_decay)


def head_lr(optimizer: Optimizer) -> float:
    """Current learning rate of the head's param group (the last one): the value logged as ``lr``."""
    return float(optimizer.param_groups[-1]["lr"])


class EpochScheduler:
    """Steps a torch LR scheduler once per epoch; ``plateau`` reads the monitored validation metric."""

    def __init__(self, spec: SchedulerSpec, optimizer: Optimizer, epochs: int) -> None:
        self.spec = spec
        self._scheduler = _build(spec, optimizer, epochs)

    def step(self, metrics: dict[str, float]) -> None:
        """Advance one epoch."""
        if self._scheduler is None:
            return
        if isinstance(self._scheduler, ReduceLROnPlateau):
            self._scheduler.step(metrics[self.spec.monitor])
        else:
            self._scheduler.step()


def _build(spec: SchedulerSpec, optimizer: Optimizer, epochs: int) -> LRScheduler | ReduceLROnPlateau | None:
    if spec.name == "plateau":
        if spec.warmup_epochs:
            raise ValueError("scheduler 'plateau' cannot be combined with warmup_epochs")
        mode = "min" if spec.monitor == "val_loss" else "max"
        return ReduceLROnPlateau(optimizer, mode=mode, factor=spec.factor, patience=spec.patience)
    warmup = spec.warmup_epochs
    main: LRScheduler | None = None
    if spec.name == "cosine":
        main = CosineAnnealingLR(optimizer, T_max=max(1, epochs - warmup), eta_min=spec.eta_min)
    elif spec.name == "step":
        main = StepLR(optimizer, step_size=spec.step_size, gamma=spec.gamma)
    if warmup == 0:
        return main
    linear = LinearLR(optimizer, start_factor=spec.warmup_start_factor, end_factor=1.0, total_iters=warmup)
    if main is None:
        return linear
    return SequentialLR(optimizer, schedulers=[linear, main], milestones=[warmup])


def optimizer_state_steps(optimizer: Optimizer) -> dict[str, int]:
    """Per param group, how many steps its first parameter's state has taken (0 = never updated)."""
    steps = {}
    for group in optimizer.param_groups:
        state = optimizer.state.get(group["params"][0], {})
        step = state.get("step", 0)
        steps[group.get("name", "?")] = int(step.item() if isinstance(step, torch.Tensor) else step)
    return steps

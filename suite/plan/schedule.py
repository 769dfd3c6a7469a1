"""Learning rates in closed form: one formula per schedule, evaluated per group and per epoch.

Epochs count from the start of the current phase (a fine-tuning phase restarts the schedule at its own LR).
Warm-up: linear from ``lr * warmup_start_factor`` to ``lr`` over ``warmup_epochs`` epochs (torch's LinearLR).
cosine: ``eta_min + (lr - eta_min) * (1 + cos(pi * t / T)) / 2`` with t and T counted after the warm-up
(torch's CosineAnnealingLR: ``eta_min`` is an absolute floor for every group). step: ``lr * gamma ** (t //
step_size)``. none / plateau: ``lr`` (plateau reductions are decided at run time by
:class:`suite.plan.controllers.PlateauController` and multiply this value).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from suite.spec.models import SchedulerSpec


@dataclass(frozen=True)
class SchedulePlan:
    """The spec's schedule, the part of it that fixes each epoch's LR (plateau decides at run time)."""

    name: str
    warmup_epochs: int
    warmup_start_factor: float
    eta_min: float
    step_size: int
    gamma: float


def schedule_plan(spec: SchedulerSpec) -> SchedulePlan:
    """The plan's copy of ``training.scheduler``."""
    return SchedulePlan(
        spec.name, spec.warmup_epochs, spec.warmup_start_factor, spec.eta_min, spec.step_size, spec.gamma
    )


def scheduled_lr(spec: SchedulePlan | SchedulerSpec, base_lr: float, epoch: int, phase_epochs: int) -> float:
    """The LR of a group whose base rate is ``base_lr`` at ``epoch`` (0-based) of a ``phase_epochs``-epoch phase."""
    if epoch < spec.warmup_epochs:
        start = spec.warmup_start_factor
        return base_lr * (start + (1.0 - start) * epoch / spec.warmup_epochs)
    after = epoch - spec.warmup_epochs
    if spec.name == "cosine":
        span = max(1, phase_epochs - spec.warmup_epochs)
        return spec.eta_min + (base_lr - spec.eta_min) * (1.0 + math.cos(math.pi * after / span)) / 2.0
    if spec.name == "step":
        return base_lr * spec.gamma ** (after // spec.step_size)
    return base_lr

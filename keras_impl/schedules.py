"""training.scheduler as Keras callbacks, stepped once per epoch like the torch runner.

Epochs count from the start of the current phase (a fine-tuning phase restarts the schedule from its own LR).
Warm-up: linear from ``lr * warmup_start_factor`` to ``lr`` over ``warmup_epochs`` epochs.
cosine: ``eta_min + (lr - eta_min) * (1 + cos(pi * t / T)) / 2``, t and T counted after the warm-up.
step: ``lr * gamma ** (t // step_size)``. plateau: ``keras.callbacks.ReduceLROnPlateau`` (factor, patience,
monitor); like the torch runner, plateau takes no warm-up (``check`` rejects the combination).
"""

from __future__ import annotations

import math
from typing import Any

import keras

from suite.spec.models import SchedulerSpec


def lr_at(spec: SchedulerSpec, base_lr: float, epoch: int, phase_epochs: int) -> float | None:
    """LR for ``epoch`` of a phase of ``phase_epochs`` epochs; None where the schedule does not set it."""
    if epoch < spec.warmup_epochs:
        start = spec.warmup_start_factor
        return base_lr * (start + (1.0 - start) * epoch / spec.warmup_epochs)
    after = epoch - spec.warmup_epochs
    if spec.name == "cosine":
        span = max(1, phase_epochs - spec.warmup_epochs)
        return spec.eta_min + (base_lr - spec.eta_min) * (1.0 + math.cos(math.pi * after / span)) / 2.0
    if spec.name == "step":
        return base_lr * spec.gamma ** (after // spec.step_size)
    if epoch == spec.warmup_epochs and spec.warmup_epochs > 0:
        return base_lr  # warm-up just ended: plateau / none continue from the base rate
    return None


class EpochSchedule(keras.callbacks.Callback):
    """Sets the optimizer LR at the start of each epoch from :func:`lr_at`."""

    def __init__(self, spec: SchedulerSpec, base_lr: float, first_epoch: int, phase_epochs: int) -> None:
        super().__init__()
        self._spec = spec
        self._base_lr = base_lr
        self._first_epoch = first_epoch
        self._phase_epochs = phase_epochs

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:  # noqa: D102
        lr = lr_at(self._spec, self._base_lr, epoch - self._first_epoch, self._phase_epochs)
        if lr is not None:
            self.model.optimizer.learning_rate = lr


def schedule_callbacks(spec: SchedulerSpec, base_lr: float, first_epoch: int, phase_epochs: int) -> list[Any]:
    """Callbacks implementing ``spec`` for one training phase (empty for name="none" without warm-up)."""
    callbacks: list[Any] = []
    if spec.name in ("cosine", "step") or spec.warmup_epochs > 0:
        callbacks.append(EpochSchedule(spec, base_lr, first_epoch, phase_epochs))
    if spec.name == "plateau":
        mode = "min" if spec.monitor == "val_loss" else "max"
        callbacks.append(
            keras.callbacks.ReduceLROnPlateau(
                monitor=spec.monitor,
                mode=mode,
                factor=spec.factor,
                patience=spec.patience,
                verbose=0,
            )
        )
    return callbacks

"""Run-time decisions both backends share: early stopping and ReduceLROnPlateau, fed with validation metrics."""

from __future__ import annotations

import math
from typing import Any

from suite.spec.models import EarlyStoppingSpec, SchedulerSpec


def _signed(monitor: str, value: float) -> float:
    """Larger is better: val_loss is negated."""
    return -value if monitor == "val_loss" else value


class EarlyStopper:
    """Tracks the best ``monitor`` value (val_loss: lower, val_accuracy: higher) and the patience left.

    An epoch improves when it beats the best by more than ``min_delta``; training stops once ``patience``
    epochs in a row brought no improvement (the Keras and Lightning semantics). Without a spec it only
    tracks the best epoch.
    """

    def __init__(self, spec: EarlyStoppingSpec | None, monitor: str = "val_loss") -> None:
        self.monitor = spec.monitor if spec else monitor
        self.patience = spec.patience if spec else None
        self.min_delta = spec.min_delta if spec else 0.0
        self.restore_best = bool(spec and spec.restore_best)
        self.best_value = -math.inf
        self.best_epoch = -1
        self._stale = 0

    def update(self, epoch: int, metrics: dict[str, float]) -> bool:
        """Record one epoch's metrics; True when it is the new best."""
        value = _signed(self.monitor, metrics[self.monitor])
        if value > self.best_value + self.min_delta:
            self.best_value, self.best_epoch, self._stale = value, epoch, 0
            return True
        self._stale += 1
        return False

    @property
    def should_stop(self) -> bool:
        """True once ``patience`` epochs in a row brought no improvement."""
        return self.patience is not None and self._stale >= self.patience

    def to_state(self) -> dict[str, Any]:
        """What :meth:`update` has learnt so far, as plain data (the spec part is rebuilt from the plan)."""
        return {"best_value": _finite_or_none(self.best_value), "best_epoch": self.best_epoch, "stale": self._stale}

    def from_state(self, state: dict[str, Any]) -> None:
        """Continue from :meth:`to_state`."""
        self.best_value = _float_or_minus_inf(state["best_value"])
        self.best_epoch = int(state["best_epoch"])
        self._stale = int(state["stale"])


class PlateauController:
    """ReduceLROnPlateau as one neutral rule shared by every backend.

    After more than ``patience`` epochs without a relative improvement of 1e-4 (torch's default threshold,
    mode ``rel``), every group's LR is multiplied by ``factor``.

    ``scale`` is the product of the reductions so far; the loop multiplies the plan's LRs by it.
    """

    THRESHOLD = 1e-4

    def __init__(self, spec: SchedulerSpec) -> None:
        self.active = spec.name == "plateau"
        self.monitor, self.factor, self.patience = spec.monitor, spec.factor, spec.patience
        self.scale = 1.0
        self.reductions: list[int] = []
        self._best = -math.inf
        self._stale = 0

    def update(self, epoch: int, metrics: dict[str, float]) -> bool:
        """Feed one epoch's metrics; True when this epoch triggers a reduction (effective next epoch)."""
        if not self.active:
            return False
        value = _signed(self.monitor, metrics[self.monitor])
        if not math.isfinite(self._best) or value > self._best + abs(self._best) * self.THRESHOLD:
            self._best, self._stale = value, 0
            return False
        self._stale += 1
        if self._stale > self.patience:
            self.scale *= self.factor
            self.reductions.append(epoch)
            self._stale = 0
            return True
        return False

    def to_state(self) -> dict[str, Any]:
        """The LR scale, reductions and patience counter as plain data."""
        return {
            "scale": self.scale,
            "reductions": list(self.reductions),
            "best": _finite_or_none(self._best),
            "stale": self._stale,
        }

    def from_state(self, state: dict[str, Any]) -> None:
        """Continue from :meth:`to_state`."""
        self.scale = float(state["scale"])
        self.reductions = [int(epoch) for epoch in state["reductions"]]
        self._best = _float_or_minus_inf(state["best"])
        self._stale = int(state["stale"])


def _finite_or_none(value: float) -> float | None:
    """JSON has no infinity: the "nothing seen yet" value is stored as None."""
    return value if math.isfinite(value) else None


def _float_or_minus_inf(value: float | None) -> float:
    return -math.inf if value is None else float(value)

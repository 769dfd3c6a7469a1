"""Early stopping / best-epoch tracking and checkpoint files."""

from __future__ import annotations

import math
from pathlib import Path

import torch
from torch import nn


class BestTracker:
    """Tracks the best value of ``monitor`` (val_loss: lower, val_accuracy: higher) and patience."""

    def __init__(self, monitor: str = "val_loss", patience: int | None = None, min_delta: float = 0.0) -> None:
        self.monitor, self.patience, self.min_delta = monitor, patience, min_delta
        self._sign = -1.0 if monitor == "val_loss" else 1.0
        self.best_value = -math.inf
        self.best_epoch = -1
        self._epochs_without_improvement = 0

    def update(self, epoch: int, row: dict[str, float]) -> bool:
        """Record ``row``; True when it improves on the best by more than ``min_delta``."""
        value = self._sign * row[self.monitor]
        if value > self.best_value + self.min_delta:
            self.best_value, self.best_epoch = value, epoch
            self._epochs_without_improvement = 0
            return True
        self._epochs_without_improvement += 1
        return False

    @property
    def should_stop(self) -> bool:
        """True once ``patience`` epochs in a row brought no improvement (Keras and Lightning semantics)."""
        return self.patience is not None and self._epochs_without_improvement >= self.patience


def snapshot(module: nn.Module) -> dict[str, torch.Tensor]:
    """A detached copy of ``module``'s state dict (to restore the best weights later)."""
    return {key: value.detach().clone() for key, value in module.state_dict().items()}


def save_checkpoint(path: Path, module: nn.Module, epoch: int, monitor: str, value: float) -> None:
    """Write ``{"state_dict", "epoch", "monitor", "value"}``; loadable again as ``model.weights = path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"state_dict": module.state_dict(), "epoch": epoch, "monitor": monitor, "value": value}, path)

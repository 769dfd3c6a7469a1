"""TensorBoard logging: epoch metrics and the training loss every ``log_every_n_steps`` steps."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import torch

_NO_TENSORFLOW = "tensorboard.compat.notf"


class TensorBoardLogger:
    """Thin wrapper over ``torch.utils.tensorboard.SummaryWriter`` writing under ``run_dir/tensorboard``."""

    def __init__(self, log_dir: Path, every_n_steps: int) -> None:
        # tensorboard imports TensorFlow when it is installed, unless this marker module exists
        # (its documented "no_tensorflow" switch); the torch runner must not load TensorFlow.
        sys.modules.setdefault(_NO_TENSORFLOW, types.ModuleType(_NO_TENSORFLOW))
        from torch.utils.tensorboard import SummaryWriter  # needs the tensorboard package

        self._writer = SummaryWriter(log_dir=str(log_dir))
        self._every = every_n_steps

    def train_step(self, step: int, loss: torch.Tensor) -> None:
        """Log the step loss when ``step`` is a multiple of the interval (reads the value only then)."""
        if step % self._every == 0:
            self._writer.add_scalar("train/loss_step", float(loss.detach()), step)

    def epoch(self, row: dict[str, float]) -> None:
        """Log one history row (losses, accuracies, lr) at its epoch."""
        epoch = int(row["epoch"])
        for key in ("train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr"):
            split, _, metric = key.partition("_")
            self._writer.add_scalar(f"{split}/{metric}" if key != "lr" else "lr", row[key], epoch)
        self._writer.flush()

    def close(self) -> None:
        """Flush and close the event file."""
        self._writer.close()

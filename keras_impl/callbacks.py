"""Callbacks that turn ``model.fit`` into the suite's history rows, timings and progress events."""

from __future__ import annotations

import time
from typing import Any

import keras

from suite.runners.progress import ProgressReporter
from suite.timing import ThroughputMeter


def current_lr(model: Any) -> float:
    """The optimizer's learning rate as a Python float."""
    return float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))


class HistoryRecorder(keras.callbacks.Callback):
    """One row per epoch: HISTORY_COLUMNS + ``phase``; forwards epoch events to the progress reporter.

    Place it after the LR-schedule callbacks: the ``lr`` column is read at epoch start, i.e. the rate
    the epoch trained with.
    """

    def __init__(self, progress: ProgressReporter, total_epochs: int, phase: int) -> None:
        super().__init__()
        self.rows: list[dict[str, float]] = []
        self._progress = progress
        self._total_epochs = total_epochs
        self._phase = phase
        self._started = 0.0
        self._lr = 0.0

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:  # noqa: D102
        self._lr = current_lr(self.model)
        self._progress.epoch_start(epoch, self._total_epochs, int(self.params.get("steps") or 0))
        self._started = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:  # noqa: D102
        logs = logs or {}
        row = {
            "epoch": epoch,
            "train_loss": float(logs["loss"]),
            "train_accuracy": float(logs["accuracy"]),
            "val_loss": float(logs["val_loss"]),
            "val_accuracy": float(logs["val_accuracy"]),
            "lr": self._lr,
            "seconds": time.perf_counter() - self._started,
            "phase": self._phase,
        }
        self.rows.append(row)
        self._progress.epoch_end(epoch, {key: value for key, value in row.items() if key != "epoch"})


class ThroughputCallback(keras.callbacks.Callback):
    """Times every training step with a ThroughputMeter (warm-up batches excluded).

    Keras converts the step's logs to Python floats before ``on_train_batch_end`` runs, which waits for
    the device, so the clock is read after the step has really finished on every backend.
    """

    def __init__(self, meter: ThroughputMeter, num_samples: int, batch_size: int, progress: ProgressReporter) -> None:
        super().__init__()
        self.meter = meter
        self._num_samples = num_samples
        self._batch_size = batch_size
        self._progress = progress
        self.steady_images = 0

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:  # noqa: D102
        self.meter.start_batch()

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:  # noqa: D102
        images = min(self._batch_size, self._num_samples - batch * self._batch_size)
        self.meter.end_batch(images)
        if self.meter.excluded_batches:
            self.steady_images += images
        self._progress.batch_end(batch + 1)

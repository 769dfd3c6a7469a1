"""TensorBoard event files written by the core for every backend, without importing TensorFlow."""

from __future__ import annotations

import sys
import time
import types
from pathlib import Path

from suite.runners.protocol import STEP_LOSS, epoch_number, tracked_name

_NO_TENSORFLOW = "tensorboard.compat.notf"
EPOCH_SCALARS = ("train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr", "seconds")


class EpochLogger:
    """Per-epoch scalars (losses, accuracies, LRs incl. each group's, epoch seconds) and the step loss.

    Tags are the MLflow metric names (:func:`suite.runners.protocol.tracked_name`): one vocabulary.
    """

    def __init__(self, log_dir: Path, every_n_steps: int) -> None:
        # tensorboard imports TensorFlow when it is installed unless this marker module exists
        # (its documented "no TensorFlow" switch): a torch run must not load TensorFlow.
        sys.modules.setdefault(_NO_TENSORFLOW, types.ModuleType(_NO_TENSORFLOW))
        from tensorboard.summary.writer.event_file_writer import EventFileWriter

        log_dir.mkdir(parents=True, exist_ok=True)
        self._writer = EventFileWriter(str(log_dir))
        self._every = every_n_steps

    def _scalar(self, tag: str, value: float, step: int) -> None:
        from tensorboard.compat.proto.event_pb2 import Event
        from tensorboard.compat.proto.summary_pb2 import Summary

        summary = Summary(value=[Summary.Value(tag=tag, simple_value=float(value))])
        self._writer.add_event(Event(wall_time=time.time(), step=step, summary=summary))

    def train_step(self, step: int, loss: float) -> None:
        """Log the step loss when ``step`` is a multiple of the interval."""
        if step % self._every == 0:
            self._scalar(STEP_LOSS, loss, step)

    def epoch(self, row: dict[str, float]) -> None:
        """Log one history row at its epoch, under the names MLflow uses (``val_loss``, ``lr_head``, ...)."""
        epoch = epoch_number(row["epoch"])  # the step users read, as in history.csv and MLflow
        for key, value in row.items():
            if key in EPOCH_SCALARS or key.startswith("lr_"):
                self._scalar(tracked_name(key), value, epoch)
        self._writer.flush()

    def close(self) -> None:
        """Flush and close the event file."""
        self._writer.close()

"""Why a run stops before its plan ends: divergence (non-finite numbers) and the wall-clock limit.

The loop raises :class:`RunStopped`; the worker records it as status ``diverged`` or ``timeout`` with the
history so far (see ``suite.execution.worker``).
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from suite.runners.protocol import epoch_number
from suite.store import statuses


class RunStopped(Exception):
    """Training stopped early: ``status`` (``diverged`` or ``timeout``) at ``epoch``, with the history so far.

    The loop fills ``history``, ``resumed_from_epoch`` and ``resumes`` before the exception leaves it.
    """

    def __init__(self, status: str, epoch: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.epoch = epoch
        self.history: list[dict[str, Any]] = []
        self.resumed_from_epoch: int | None = None
        self.resumes = 0

    @property
    def message(self) -> str:
        """The one-line reason (result.json's ``error``)."""
        return str(self.args[0])


def check_loss(loss: float, epoch: int, batch: int, lr: float) -> None:
    """Raise ``diverged`` when a training step's loss is NaN or infinite."""
    if not math.isfinite(loss):
        message = f"non-finite training loss at epoch {epoch_number(epoch)}, batch {batch} (lr {lr:g})"
        raise RunStopped(statuses.DIVERGED, epoch, message)


def check_validation(logits: np.ndarray, weights_finite: bool | None, epoch: int, lr: float) -> None:
    """Raise ``diverged`` when the validation logits or (when the session tells) the weights are not finite."""
    if not np.isfinite(logits).all():
        where = f"at epoch {epoch_number(epoch)} (lr {lr:g})"
        raise RunStopped(statuses.DIVERGED, epoch, f"non-finite validation logits {where}")
    if weights_finite is False:
        raise RunStopped(statuses.DIVERGED, epoch, f"non-finite weights at epoch {epoch_number(epoch)} (lr {lr:g})")


class Deadline:
    """``training.time_limit`` seconds from ``started`` (a ``time.monotonic()`` value: the worker's start)."""

    def __init__(self, limit: float | None, started: float | None = None) -> None:
        self.limit = limit
        self.started = time.monotonic() if started is None else started

    def check(self, epoch: int, batch: int) -> None:
        """Raise ``timeout`` once the limit has passed."""
        if self.limit is None:
            return
        elapsed = time.monotonic() - self.started
        if elapsed > self.limit:
            raise RunStopped(
                statuses.TIMEOUT,
                epoch,
                f"training.time_limit of {self.limit:g} s reached at epoch {epoch_number(epoch)}, batch {batch} "
                f"({elapsed:.1f} s since the worker started)",
            )

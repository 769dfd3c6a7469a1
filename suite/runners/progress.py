"""Progress events a runner emits while it trains; the executor renders them."""

from __future__ import annotations

import json
import os
from typing import IO, Any, Protocol

PROGRESS_FD_ENV = "SUITE_PROGRESS_FD"


class ProgressReporter(Protocol):
    """What a runner calls during training. Every method is cheap and may be a no-op."""

    def epoch_start(self, epoch: int, total_epochs: int, total_batches: int) -> None:
        """A training epoch begins (epoch is 0-based)."""

    def batch_end(self, batches_done: int) -> None:
        """``batches_done`` batches of the current epoch have finished."""

    def epoch_end(self, epoch: int, metrics: dict[str, float]) -> None:
        """An epoch finished with these metrics (train/val loss and accuracy, lr)."""

    def message(self, text: str) -> None:
        """A one-line note for the user (e.g. 'epoch 4: unfroze layer4')."""


class NullProgress:
    """Reporter that drops every event."""

    def epoch_start(self, epoch: int, total_epochs: int, total_batches: int) -> None:  # noqa: D102
        pass

    def batch_end(self, batches_done: int) -> None:  # noqa: D102
        pass

    def epoch_end(self, epoch: int, metrics: dict[str, float]) -> None:  # noqa: D102
        pass

    def message(self, text: str) -> None:  # noqa: D102
        pass


class PipeProgress:
    """Reporter that writes one JSON line per event to a pipe the parent process reads."""

    def __init__(self, stream: IO[str], min_batch_interval: int = 1) -> None:
        self._stream = stream
        self._interval = max(1, min_batch_interval)

    @classmethod
    def from_environment(cls) -> ProgressReporter:
        """Reporter on the fd named by ``SUITE_PROGRESS_FD``, or a null reporter."""
        fd = os.environ.get(PROGRESS_FD_ENV)
        if not fd:
            return NullProgress()
        return cls(os.fdopen(int(fd), "w", buffering=1))

    def _send(self, event: str, **payload: Any) -> None:
        try:
            self._stream.write(json.dumps({"event": event, **payload}) + "\n")
        except (BrokenPipeError, ValueError):
            pass

    def epoch_start(self, epoch: int, total_epochs: int, total_batches: int) -> None:  # noqa: D102
        self._send("epoch_start", epoch=epoch, total_epochs=total_epochs, total_batches=total_batches)

    def batch_end(self, batches_done: int) -> None:  # noqa: D102
        if batches_done % self._interval == 0:
            self._send("batch_end", batches_done=batches_done)

    def epoch_end(self, epoch: int, metrics: dict[str, float]) -> None:  # noqa: D102
        self._send("epoch_end", epoch=epoch, metrics=metrics)

    def message(self, text: str) -> None:  # noqa: D102
        self._send("message", text=text)

"""One way to time training everywhere: warm-up batches excluded, device synchronised first."""

from __future__ import annotations

import time
from collections.abc import Callable


class ThroughputMeter:
    """Counts images and seconds after the first ``warmup_batches`` batches.

    Call :meth:`start_batch` before and :meth:`end_batch` after each step; ``synchronize``
    (e.g. ``torch.cuda.synchronize``) runs before every clock read so asynchronous devices
    are measured honestly.
    """

    def __init__(self, warmup_batches: int = 2, synchronize: Callable[[], None] | None = None) -> None:
        self.warmup_batches = warmup_batches
        self._synchronize = synchronize or (lambda: None)
        self._batches_seen = 0
        self._images = 0
        self._seconds = 0.0
        self._all_images = 0
        self._all_seconds = 0.0
        self._started: float | None = None

    def start_batch(self) -> None:
        """Mark the start of one step."""
        self._synchronize()
        self._started = time.perf_counter()

    def end_batch(self, images: int) -> None:
        """Mark the end of one step that processed ``images`` images."""
        self._synchronize()
        if self._started is None:
            raise RuntimeError("end_batch() without start_batch()")
        elapsed = time.perf_counter() - self._started
        self._started = None
        self._batches_seen += 1
        self._all_images += images
        self._all_seconds += elapsed
        if self._batches_seen > self.warmup_batches:
            self._images += images
            self._seconds += elapsed

    @property
    def _has_steady_state(self) -> bool:
        return self._batches_seen > self.warmup_batches and self._seconds > 0

    @property
    def excluded_batches(self) -> int:
        """How many batches were left out as warm-up (0 when too few batches ran to exclude any)."""
        return self.warmup_batches if self._has_steady_state else 0

    @property
    def images_per_second(self) -> float:
        """Steady-state throughput; over all batches when there were too few to drop the warm-up."""
        if self._has_steady_state:
            return self._images / self._seconds
        return self._all_images / self._all_seconds if self._all_seconds > 0 else 0.0

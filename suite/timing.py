"""The one timing protocol every backend reports through.

- **train img/s**: images / seconds over optimisation steps only (forward, backward, update), excluding the
  first ``WARMUP_TRAIN_BATCHES`` steps after every change of what trains (a phase start or an unfreeze,
  where frameworks retrace or rebuild their step). The clock is read after ``synchronize()`` (device work
  finished) at both ends of each step.
- **eval img/s**: the test-set pass with the final weights (no prefix cache), excluding the first
  ``WARMUP_EVAL_BATCHES`` batch and the first batch of every other size (the partial last batch: XLA compiles
  and cuDNN searches kernels once per shape, a one-off cost that is the framework's), synchronised the same
  way. On an accelerator the device feed pads evaluation batches to one shape, so that cost is not paid.
- **warm-up and steady seconds**: the seconds of the excluded warm-up steps (where a GPU run's fixed cost
  sits: CUDA/cuDNN start-up, kernel selection, XLA compilation) and of the measured steps, recorded apart
  for training and for the test pass (``timing.train_warmup_seconds``, ``train_steady_seconds``,
  ``eval_warmup_seconds``, ``eval_steady_seconds``). A short run's report says where its time went: the
  rest of ``train_seconds`` is validation, batch assembly and the feature-cache pass.
- **what is the framework's**: CUDA and cuDNN/cuBLAS start-up in the first steps, and cuDNN's kernel search
  (benchmark mode) or XLA's compilation once per new input shape. Training meets the partial last batch's
  shape once per run (it is not padded: padding would change BatchNorm's batch statistics); evaluation meets
  one shape on an accelerator (the device feed pads it) and its other sizes are warm-up here.
- **epoch seconds**: wall time of one epoch's training steps plus its validation pass, batch assembly included.
- **train seconds**: the sum of epoch seconds plus the one-off feature-cache pass.
- **resumed runs**: a run that continues from a resume state (see :mod:`suite.training.resume`) carries its
  meter's accumulators and its per-epoch seconds over, so train seconds and train img/s cover the epochs of
  every attempt; a new process rebuilds its step, so its first ``WARMUP_TRAIN_BATCHES`` steps are warm-up
  again, and every attempt pays its own feature-cache pass. The steps of an epoch cut short by a kill are
  redone and counted once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

WARMUP_TRAIN_BATCHES = 2
WARMUP_EVAL_BATCHES = 1


class ThroughputMeter:
    """Counts images and seconds, leaving out ``warmup_batches`` batches after the start and every :meth:`rewarm`.

    Call :meth:`start_batch` before and :meth:`end_batch` after each step; ``synchronize``
    (e.g. ``torch.cuda.synchronize``) runs before every clock read so asynchronous devices
    are measured honestly. With ``warm_new_sizes`` the first batch of every batch size is warm-up too.
    """

    def __init__(
        self, warmup_batches: int = 2, synchronize: Callable[[], None] | None = None, warm_new_sizes: bool = False
    ) -> None:
        self.warmup_batches = warmup_batches
        self._sizes: set[int] | None = set() if warm_new_sizes else None
        self._synchronize = synchronize or (lambda: None)
        self._warmup_left = warmup_batches
        self._excluded = 0
        self._images = 0
        self._seconds = 0.0
        self._all_images = 0
        self._all_seconds = 0.0
        self._warmup_seconds = 0.0
        self._started: float | None = None

    def rewarm(self) -> None:
        """Exclude the next ``warmup_batches`` batches again (the step was rebuilt)."""
        self._warmup_left = self.warmup_batches

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
        self._all_images += images
        self._all_seconds += elapsed
        new_size = self._sizes is not None and images not in self._sizes
        if self._sizes is not None:
            self._sizes.add(images)
        if self._warmup_left > 0 or new_size:
            self._warmup_left = max(0, self._warmup_left - 1)
            self._excluded += 1
            self._warmup_seconds += elapsed
            return
        self._images += images
        self._seconds += elapsed

    def to_state(self) -> dict[str, Any]:
        """The accumulators as plain data (a resume state), for :meth:`from_state`."""
        return {
            "warmup_left": self._warmup_left,
            "excluded": self._excluded,
            "images": self._images,
            "seconds": self._seconds,
            "all_images": self._all_images,
            "all_seconds": self._all_seconds,
            "warmup_seconds": self._warmup_seconds,
        }

    def from_state(self, state: dict[str, Any]) -> None:
        """Continue counting from :meth:`to_state`'s accumulators."""
        self._warmup_left = int(state["warmup_left"])
        self._excluded = int(state["excluded"])
        self._images = int(state["images"])
        self._seconds = float(state["seconds"])
        self._all_images = int(state["all_images"])
        self._all_seconds = float(state["all_seconds"])
        self._warmup_seconds = float(state.get("warmup_seconds", 0.0))  # absent from states saved before it existed

    @property
    def _has_steady_state(self) -> bool:
        return self._seconds > 0

    @property
    def excluded_batches(self) -> int:
        """How many batches were left out as warm-up (0 when too few batches ran to exclude any)."""
        return self._excluded if self._has_steady_state else 0

    @property
    def warmup_seconds(self) -> float:
        """Seconds of the steps left out as warm-up (0 when too few ran to leave any out, like the count)."""
        return self._warmup_seconds if self._has_steady_state else 0.0

    @property
    def steady_seconds(self) -> float:
        """Seconds of the steady-state steps (every step's when too few ran to leave out the warm-up)."""
        return self._seconds if self._has_steady_state else self._all_seconds

    @property
    def images_per_second(self) -> float:
        """Steady-state throughput; over all batches when there were too few to drop the warm-up."""
        if self._has_steady_state:
            return self._images / self._seconds
        return self._all_images / self._all_seconds if self._all_seconds > 0 else 0.0

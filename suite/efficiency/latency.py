"""Inference speed of the final model, timed the same way in every framework (see :mod:`suite.timing`).

- **batch-1 latency**: ``LATENCY_WARMUP_CALLS`` untimed ``predict`` calls on one image, then ``LATENCY_CALLS``
  (>= 30) timed ones; median and 90th percentile in milliseconds, the device synchronised before each clock read.
- **batch-N throughput**: ``THROUGHPUT_WARMUP_CALLS`` untimed calls on N images (N = the evaluation batch
  size), then ``THROUGHPUT_CALLS`` timed ones; images / seconds.

Both run on the run's device and precision with the test weights (LoRA merged), on test images.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

LATENCY_CALLS = 30
LATENCY_WARMUP_CALLS = 3
THROUGHPUT_CALLS = 5
THROUGHPUT_WARMUP_CALLS = 1


@dataclass(frozen=True)
class LatencyProtocol:
    """How many calls are timed; the defaults are the definition (tests may shorten ``calls``)."""

    calls: int = LATENCY_CALLS
    warmup_calls: int = LATENCY_WARMUP_CALLS
    throughput_calls: int = THROUGHPUT_CALLS
    throughput_warmup_calls: int = THROUGHPUT_WARMUP_CALLS


def timed_calls(call: Callable[[], Any], synchronize: Callable[[], None], warmup: int, calls: int) -> np.ndarray:
    """Seconds of each of ``calls`` timed calls after ``warmup`` untimed ones, synchronised around each."""
    for _ in range(warmup):
        call()
    synchronize()
    seconds = np.empty(calls)
    for index in range(calls):
        started = time.perf_counter()
        call()
        synchronize()
        seconds[index] = time.perf_counter() - started
    return seconds


def measure_inference(session: Any, images: np.ndarray, batch_size: int, protocol: LatencyProtocol) -> dict[str, Any]:
    """Batch-1 latency (median, p90) and batch-``batch_size`` images/s of ``session.predict`` on ``images``."""
    single = images[:1]
    batch = np.resize(images, (batch_size, *images.shape[1:])).astype(images.dtype, copy=False)
    one = timed_calls(lambda: session.predict(single), session.synchronize, protocol.warmup_calls, protocol.calls)
    many = timed_calls(
        lambda: session.predict(batch),
        session.synchronize,
        protocol.throughput_warmup_calls,
        protocol.throughput_calls,
    )
    return {
        "latency_b1_ms_median": float(np.median(one) * 1000),
        "latency_b1_ms_p90": float(np.percentile(one, 90) * 1000),
        "latency_calls": protocol.calls,
        "batch_size": batch_size,
        "batch_images_per_second": float(batch_size * len(many) / many.sum()) if many.sum() > 0 else 0.0,
    }

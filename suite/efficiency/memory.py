"""Peak memory of the training phase, one definition per device kind.

- **accelerator**: the framework allocator's peak between the reset before the first training step and the end
  of training (``torch.cuda.max_memory_allocated``, TensorFlow's ``get_memory_info(...)["peak"]``, JAX's
  ``peak_bytes_in_use``), read through the session's optional ``reset_peak_memory`` / ``peak_memory_bytes``.
- **CPU**: the process's resident-set high-water mark during training minus the resident set just before the
  first training step (Linux ``VmHWM`` after resetting it through ``/proc/self/clear_refs``). Before the
  baseline is read, garbage is collected and the C heap's free pages go back to the system (glibc
  ``malloc_trim``), so memory freed by data loading is not silently reused by training. It is an upper bound on
  what training needed: it includes framework caches, thread arenas and the allocator's slack.

A resumed run's peak is that of its last attempt (each attempt is a new process).

The analytic trainable-state bytes (:mod:`suite.efficiency.state`) are recorded beside it: exact and equal
across frameworks, where the measured peak is neither.
"""

from __future__ import annotations

import ctypes
import gc
import resource
from dataclasses import dataclass
from pathlib import Path
from typing import Any

STATUS_FILE = Path("/proc/self/status")
CLEAR_REFS_FILE = Path("/proc/self/clear_refs")
CPU_SOURCE = "cpu: resident-set high-water mark during training minus the resident set before it (upper bound)"
DEVICE_SOURCE = "accelerator: the framework allocator's peak during training"


@dataclass
class PeakMemory:
    """Watches one training phase: :meth:`start` before the first step, :meth:`stop` after the last."""

    session: Any
    baseline: int = 0
    on_device: bool = False
    reset_ok: bool = True

    def start(self) -> None:
        """Reset the allocator's peak (accelerator) or the resident-set high-water mark (CPU)."""
        self.on_device = self.session.reset_peak_memory()
        if not self.on_device:
            _release_free_memory()
            self.reset_ok = _reset_high_water_mark()
            self.baseline = resident_bytes()

    def stop(self) -> dict[str, Any]:
        """``{"peak_train_memory_bytes", "peak_memory_source"}`` for the phase since :meth:`start`."""
        if self.on_device:
            peak = int(self.session.peak_memory_bytes())
            return {"peak_train_memory_bytes": peak, "peak_memory_source": DEVICE_SOURCE}
        source = CPU_SOURCE if self.reset_ok else CPU_SOURCE + "; the mark could not be reset: process peak"
        return {"peak_train_memory_bytes": max(high_water_bytes() - self.baseline, 0), "peak_memory_source": source}


def resident_bytes() -> int:
    """The process's resident set now (``VmRSS``)."""
    return _status_kib("VmRSS") * 1024


def high_water_bytes() -> int:
    """The resident-set high-water mark since the last reset (``VmHWM``; ``ru_maxrss`` without /proc)."""
    peak = _status_kib("VmHWM")
    return peak * 1024 if peak else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _release_free_memory() -> None:
    """Collect garbage and hand the C heap's free pages back to the system (glibc only; elsewhere a no-op)."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        return


def _reset_high_water_mark() -> bool:
    try:
        CLEAR_REFS_FILE.write_text("5", encoding="ascii")
    except OSError:
        return False
    return True


def _status_kib(field: str) -> int:
    try:
        for line in STATUS_FILE.read_text(encoding="ascii").splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return 0
    return 0

"""Dividing one machine between ``--jobs N`` workers: GPUs by ``CUDA_VISIBLE_DEVICES``, CPU cores by affinity.

Each slot is what one concurrently running worker gets. With one job nothing is changed: the worker sees the
whole machine, as before.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field

THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "TF_NUM_INTRAOP_THREADS",
)


DETERMINISTIC_THREADS = 1
"""Intra-op threads of a ``training.deterministic`` run, whatever ``--jobs`` and the machine: a reduction split over
another number of threads sums in another order, so its last bits would follow the slot count."""


def deterministic_environment(env: dict[str, str]) -> dict[str, str]:
    """The variables that pin a deterministic run's thread pools to :data:`DETERMINISTIC_THREADS`.

    ``env`` is the worker's environment so far; its ``XLA_FLAGS`` are kept.
    """
    threads = str(DETERMINISTIC_THREADS)
    pinned = {name: threads for name in THREAD_VARIABLES}
    pinned["TF_NUM_INTEROP_THREADS"] = "1"
    xla = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=" + threads
    pinned["XLA_FLAGS"] = f"{env.get('XLA_FLAGS', '')} {xla}".strip()
    return pinned


@dataclass(frozen=True)
class Slot:
    """One worker's share: CPU cores to pin it to and environment variables (threads, visible GPUs)."""

    index: int
    cpu_cores: tuple[int, ...] = ()
    env: dict[str, str] = field(default_factory=dict)


def machine_cores() -> tuple[int, ...]:
    """The CPU cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return tuple(sorted(os.sched_getaffinity(0)))
    return tuple(range(os.cpu_count() or 1))


def visible_gpus() -> list[str]:
    """CUDA devices a worker could use: ``CUDA_VISIBLE_DEVICES`` when set, else ``nvidia-smi -L``; [] on CPU."""
    declared = os.environ.get("CUDA_VISIBLE_DEVICES")
    if declared is not None:
        return [item.strip() for item in declared.split(",") if item.strip() and item.strip() != "-1"]
    if shutil.which("nvidia-smi") is None:
        return []
    try:
        listing = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return []
    return [str(index) for index, line in enumerate(listing.stdout.splitlines()) if line.startswith("GPU ")]


def make_slots(jobs: int, cores: tuple[int, ...] | None = None, gpus: list[str] | None = None) -> list[Slot]:
    """``jobs`` slots, one per concurrently running worker.

    With GPUs, each slot gets its own (round robin when there are fewer GPUs than jobs). The CPU cores are
    split into ``jobs`` contiguous shares and each worker's thread pools are sized to its share.
    """
    if jobs <= 1:
        return [Slot(0)]
    cores = machine_cores() if cores is None else cores
    gpus = visible_gpus() if gpus is None else gpus
    slots = []
    for index in range(jobs):
        share = cores[index * len(cores) // jobs : (index + 1) * len(cores) // jobs] or (cores[index % len(cores)],)
        env = {name: str(len(share)) for name in THREAD_VARIABLES}
        env["TF_NUM_INTEROP_THREADS"] = "1"
        if gpus:
            env["CUDA_VISIBLE_DEVICES"] = ",".join(gpus[index::jobs]) or gpus[index % len(gpus)]
        slots.append(Slot(index, tuple(share), env))
    return slots

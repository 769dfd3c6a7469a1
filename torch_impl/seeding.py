"""Seeding and determinism: python, numpy and torch seeded, deterministic kernels on request.

``keras_impl.seeding`` is the same job for Keras and its engine.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable

import numpy as np
import torch


def seed_framework(seed: int, deterministic: bool) -> Callable[[], None]:
    """Seed python/numpy/torch; with ``deterministic`` also force deterministic kernels.

    Returns the function that restores the global determinism flags (a session calls it on close).
    """
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    previous = (
        torch.are_deterministic_algorithms_enabled(),
        torch.is_deterministic_algorithms_warn_only_enabled(),
        torch.backends.cudnn.deterministic,
        torch.backends.cudnn.benchmark,
    )
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        # warn_only: a kernel without a deterministic version (e.g. CUDA adaptive_avg_pool2d backward,
        # used by every ResNet head) warns instead of aborting the run.
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
    else:
        torch.backends.cudnn.benchmark = True  # fixed input shapes: let cuDNN pick the fastest kernels

    def restore() -> None:
        torch.use_deterministic_algorithms(previous[0], warn_only=previous[1])
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = previous[2], previous[3]

    return restore


_FRESH: dict[str, object] = {}


def reset_process_state() -> None:
    """Put back what a run may leave in the process, as a fresh worker has it (a warm worker calls this per run).

    Default dtype, deterministic-algorithm and cuDNN switches, float32 matmul precision and the intra-op thread
    count are set back to the values this process had before its first run.
    """
    if not _FRESH:
        _FRESH.update(
            dtype=torch.get_default_dtype(),
            deterministic=torch.are_deterministic_algorithms_enabled(),
            warn_only=torch.is_deterministic_algorithms_warn_only_enabled(),
            cudnn=(torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark),
            matmul=torch.get_float32_matmul_precision(),
            threads=torch.get_num_threads(),
        )
    torch.set_default_dtype(_FRESH["dtype"])
    torch.use_deterministic_algorithms(_FRESH["deterministic"], warn_only=_FRESH["warn_only"])
    torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = _FRESH["cudnn"]
    torch.set_float32_matmul_precision(_FRESH["matmul"])
    if torch.get_num_threads() != _FRESH["threads"]:
        torch.set_num_threads(_FRESH["threads"])

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

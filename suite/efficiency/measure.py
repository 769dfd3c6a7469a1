"""The measured costs of a finished run's model: inference speed and the weights file (worker process)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from suite.efficiency.latency import LatencyProtocol, measure_inference
from suite.efficiency.record import RunCosts

WEIGHTS_PROBE_NAME = "efficiency_probe"


def finished_model_costs(
    session: Any, images: np.ndarray, batch_size: int, memory: dict[str, Any], trainable_params: int,
    protocol: LatencyProtocol | None = None,
) -> RunCosts:  # fmt: skip
    """Time inference on ``images`` with the session's test weights and size its weights file.

    ``memory`` is the training phase's peak (:class:`~suite.efficiency.memory.PeakMemory`), ``trainable_params``
    what trained by the end of training (before any LoRA merge).
    """
    inference = measure_inference(session, images, batch_size, protocol or LatencyProtocol())
    return RunCosts(memory, inference, weights_file_bytes(session), trainable_params)


def weights_file_bytes(session: Any) -> int:
    """Bytes of the weights file the session writes (``save_checkpoint``), written to a scratch folder."""
    with tempfile.TemporaryDirectory(prefix="efficiency-") as scratch:
        path: Path = session.save_checkpoint(Path(scratch), WEIGHTS_PROBE_NAME)
        return path.stat().st_size

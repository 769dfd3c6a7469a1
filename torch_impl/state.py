"""The session's resume state in torch: model, optimizer, loss scaler and RNG states in one ``state.pt``.

The core writes the directory, makes it durable and keeps python's and numpy's RNG states itself (see
``suite.training.resume``); ``keras_impl.state`` is the same job for Keras.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

STATE_FILE = "state.pt"


def save_state(
    directory: Path,
    module: nn.Module,
    optimizer: torch.optim.Optimizer | None,
    scaler: torch.amp.GradScaler | None,
    snapshots: dict[str, Any],
) -> Path:
    """Write every weight and buffer, the optimizer's and scaler's state dicts, torch's RNG states, ``snapshots``."""
    state = {
        "model": module.state_dict(),
        "optimizer": optimizer.state_dict() if optimizer is not None else None,
        "scaler": scaler.state_dict() if scaler is not None else None,
        "rng": _rng_states(),
        "snapshots": snapshots,
    }
    path = directory / STATE_FILE
    torch.save(state, path)
    return path


def load_state(
    directory: Path,
    module: nn.Module,
    optimizer: torch.optim.Optimizer | None,
    scaler: torch.amp.GradScaler | None,
    device: torch.device,
) -> dict[str, Any]:
    """Put back what :func:`save_state` wrote into ``module``, ``optimizer`` and ``scaler``; returns the snapshots."""
    state = torch.load(directory / STATE_FILE, map_location=device, weights_only=True)
    module.load_state_dict(state["model"])
    if (optimizer is None) != (state["optimizer"] is None):
        raise ValueError("resume state: the optimizer does not match the saved one (begin_phase first)")
    if optimizer is not None:
        optimizer.load_state_dict(state["optimizer"])
    if scaler is not None and state["scaler"] is not None:
        scaler.load_state_dict(state["scaler"])
    _set_rng_states(state["rng"])
    return dict(state["snapshots"])


def weights_finite(module: nn.Module) -> bool:
    """True when every parameter and floating-point buffer is finite."""
    with torch.no_grad():
        for tensor in [*module.parameters(), *module.buffers()]:
            if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
                return False
    return True


def _rng_states() -> dict[str, Any]:
    states: dict[str, Any] = {"cpu": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def _set_rng_states(states: dict[str, Any]) -> None:
    torch.set_rng_state(states["cpu"].cpu())
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([state.cpu() for state in states["cuda"]])

"""The session's resume state in Keras: every model and optimizer variable and the RNG states in one ``state.npz``.

``model.variables`` holds the weights, the non-trainable ones (BatchNorm moving statistics) and the
SeedGenerator states of dropout layers; the optimizer's variables hold its iteration count, per-group learning
rates, per-variable step counts and slots. Variables are matched by position and checked by shape: the core
rebuilds the same trainable set before loading (``begin_phase`` / ``set_trainable``). The core keeps python's
and numpy's RNG states itself (see ``suite.training.resume``); ``torch_impl.state`` is the same job for torch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras
import numpy as np

STATE_FILE = "state.npz"
_GLOBAL_SEED = "global_seed_generator"


def save_state(directory: Path, model: Any, optimizer: Any, snapshots: dict[str, list[np.ndarray]]) -> Path:
    """Write the model's and optimizer's variables, Keras' global seed state and ``snapshots`` (lists of arrays)."""
    arrays = _prefixed("model", model.variables)
    if optimizer is not None:
        arrays.update(_prefixed("optimizer", optimizer.variables))
    seed = _global_seed_generator()
    if seed is not None:
        arrays["global_seed"] = _numpy(seed.state)
    for name, values in snapshots.items():
        arrays.update({f"snapshot/{name}/{index:05d}": np.asarray(value) for index, value in enumerate(values)})
    path = directory / STATE_FILE
    np.savez(path, **arrays)
    return path


def load_state(directory: Path, model: Any, optimizer: Any) -> dict[str, list[np.ndarray]]:
    """Assign what :func:`save_state` wrote to ``model`` and ``optimizer``; returns the snapshots."""
    with np.load(directory / STATE_FILE) as loaded:
        arrays = {key: loaded[key] for key in loaded.files}
    _assign("model", model.variables, arrays)
    _assign("optimizer", optimizer.variables if optimizer is not None else [], arrays)
    seed = _global_seed_generator()
    if seed is not None and "global_seed" in arrays:
        seed.state.assign(arrays["global_seed"])
    snapshots: dict[str, list[np.ndarray]] = {}
    for key in sorted(key for key in arrays if key.startswith("snapshot/")):
        snapshots.setdefault(key.split("/")[1], []).append(arrays[key])
    return snapshots


def weights_finite(model: Any) -> bool:
    """True when every floating-point variable of ``model`` is finite."""
    for variable in model.variables:
        value = _numpy(variable)
        if np.issubdtype(value.dtype, np.floating) and not np.isfinite(value).all():
            return False
    return True


def _prefixed(prefix: str, variables: list[Any]) -> dict[str, np.ndarray]:
    return {f"{prefix}/{index:05d}": _numpy(variable) for index, variable in enumerate(variables)}


def _assign(prefix: str, variables: list[Any], arrays: dict[str, np.ndarray]) -> None:
    saved = sorted(key for key in arrays if key.startswith(f"{prefix}/"))
    if len(saved) != len(variables):
        raise ValueError(f"resume state: {len(saved)} saved {prefix} variables, the session has {len(variables)}")
    for key, variable in zip(saved, variables, strict=True):
        value = arrays[key]
        if tuple(value.shape) != tuple(variable.shape):
            raise ValueError(f"resume state: {key} has shape {value.shape}, {variable.path} {tuple(variable.shape)}")
        variable.assign(value)


def _numpy(variable: Any) -> np.ndarray:
    return np.array(keras.ops.convert_to_numpy(variable))


def _global_seed_generator() -> Any:
    """Keras' global SeedGenerator (unseeded random ops) when one was created, else None."""
    try:
        from keras.src.backend.common import global_state
    except ImportError:  # a Keras without it: nothing global to keep
        return None
    return global_state.get_global_attribute(_GLOBAL_SEED)

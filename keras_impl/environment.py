"""The process's framework facts: the Keras engine (and the child variables that select it), versions, devices.

Importable without Keras (the registry calls :func:`child_environment` in the parent process); every other
function imports Keras, so call them only in the run's own process. ``torch_impl.environment`` is the same
job for torch. Engine branches live here, in :mod:`keras_impl.precision` (bf16 support, device sync) and
:mod:`keras_impl.seeding` (determinism switches).
"""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np

from suite.environment import base_environment

DEFAULT_ENGINE = "tensorflow"
ENGINE_MODULES = {"tensorflow": ("tensorflow",), "jax": ("jax",), "torch": ("torch",)}


def child_environment(engine: str | None) -> dict[str, str]:
    """Variables a run's process needs before Keras is imported: ``KERAS_BACKEND`` selects the engine."""
    return {"KERAS_BACKEND": engine or DEFAULT_ENGINE}


def engine_name() -> str:
    """The Keras backend this process runs on ("tensorflow", "jax" or "torch")."""
    import keras

    return keras.backend.backend()


def engine_version() -> str:
    """Version of the engine framework."""
    return importlib.import_module(ENGINE_MODULES[engine_name()][0]).__version__


def gpu_names() -> list[str]:
    """Names of the accelerators the engine can use (empty on CPU-only machines)."""
    name = engine_name()
    if name == "tensorflow":
        import tensorflow as tf

        return [device.name for device in tf.config.list_physical_devices("GPU")]
    if name == "jax":
        import jax

        return [str(device) for device in jax.devices() if device.platform != "cpu"]
    import torch

    return [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]


def to_device(array: np.ndarray) -> Any:
    """``array`` copied to the engine's default device by the engine's own transfer (asynchronous where it can be).

    JAX: ``jax.device_put``; TensorFlow: a copy placed on the first GPU; torch: a pinned buffer copied with
    ``non_blocking``. On a CPU-only machine the array stays in host memory as the engine's tensor.
    """
    name = engine_name()
    if name == "jax":
        import jax

        return jax.device_put(array)
    if name == "tensorflow":
        import tensorflow as tf

        with tf.device("/GPU:0" if gpu_names() else "/CPU:0"):
            return tf.identity(array)
    import torch

    tensor = torch.from_numpy(np.ascontiguousarray(array))
    if not torch.cuda.is_available():
        return tensor
    return tensor.pin_memory().to("cuda", non_blocking=True)


def device_free_bytes() -> int:
    """Free memory of the accelerator the engine trains on (0 when unknown or on a CPU-only machine)."""
    if not gpu_names():
        return 0
    name = engine_name()
    if name == "jax":
        import jax

        stats = jax.devices()[0].memory_stats() or {}
        return max(0, int(stats.get("bytes_limit", 0)) - int(stats.get("bytes_in_use", 0)))
    if name == "torch":
        import torch

        return int(torch.cuda.mem_get_info()[0])
    return 0  # TensorFlow reports what it uses, not what is free: its splits are copied batch by batch


def environment() -> dict[str, Any]:
    """suite.environment.base_environment() plus Keras/engine versions and the device."""
    import keras

    env = base_environment()
    gpus = gpu_names()
    env["frameworks"] = {"keras": keras.__version__, engine_name(): engine_version()}
    env["engine"] = engine_name()
    env["device"] = "gpu" if gpus else "cpu"
    env["gpu"] = gpus[0] if gpus else None
    return env

"""The process's framework facts: the Keras engine (and the child variables that select it), versions, devices.

Importable without Keras (the registry calls :func:`child_environment` in the parent process); every other
function imports Keras, so call them only in the run's own process. ``torch_impl.environment`` is the same
job for torch. Engine branches live here, in :mod:`keras_impl.precision` (bf16 support, device sync) and
:mod:`keras_impl.seeding` (determinism switches).
"""

from __future__ import annotations

import importlib
from typing import Any

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

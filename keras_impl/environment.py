"""The Keras engine a process runs on: its child environment, versions, devices, bf16 support, determinism.

Importable without Keras (the registry calls :func:`child_environment` in the parent process); every other
function imports Keras, so call them only in the run's own process. The only module of this package that
branches on the engine.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from suite.environment import base_environment, cpu_supports_bf16

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


def accelerator_supports_bf16() -> bool:
    """True when the device training runs on has native bf16 (Ampere+ GPU, or a CPU with AVX-512 BF16/AMX)."""
    if not gpu_names():
        return cpu_supports_bf16()
    if engine_name() == "torch":
        import torch

        return bool(torch.cuda.is_bf16_supported())
    if engine_name() == "tensorflow":
        import tensorflow as tf

        details = tf.config.experimental.get_device_details(tf.config.list_physical_devices("GPU")[0])
        return tuple(details.get("compute_capability", (0, 0))) >= (8, 0)
    return True  # jax on GPU/TPU: XLA emulates bf16 where the hardware lacks it


def synchronize() -> None:
    """Wait for queued device work: torch on CUDA queues kernels; TF and JAX results are read back by Keras."""
    if engine_name() == "torch":
        import torch

        if torch.cuda.is_available():
            torch.cuda.synchronize()


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


@contextmanager
def determinism(enabled: bool) -> Iterator[str | None]:
    """Turn on the engine's deterministic-ops switch for the block (a no-op when ``enabled`` is False).

    The switch is process-global, so it is turned off again afterwards unless it was already on.
    Yields a description of what was done (None when nothing was).
    """
    if not enabled:
        yield None
        return
    name = engine_name()
    if name == "jax":
        yield "jax: deterministic on CPU; on GPU set XLA_FLAGS=--xla_gpu_deterministic_ops=true before start"
        return
    if name == "tensorflow":
        # The public API can only switch determinism on; its off switch lives beside it (Keras uses it too).
        from tensorflow.python.framework import config as tf_config

        was_on = tf_config.is_op_determinism_enabled()
        tf_config.enable_op_determinism()
        try:
            yield "tf.config.experimental.enable_op_determinism()"
        finally:
            if not was_on:
                tf_config.disable_op_determinism()
        return
    import torch

    was_on = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        yield "torch.use_deterministic_algorithms(True)"
    finally:
        torch.use_deterministic_algorithms(was_on)


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

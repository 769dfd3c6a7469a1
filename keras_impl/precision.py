"""Numerics: the plan's precision as a Keras dtype policy, bf16 support of the device, waiting for the device.

The final Dense is pinned to float32 by the builders (float64 under ``fp64``). ``torch_impl.precision`` is the
same job for torch.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import keras

from keras_impl.environment import engine_name, gpu_names
from suite.environment import cpu_supports_bf16

POLICIES = {"fp32": "float32", "bf16": "mixed_bfloat16", "fp16": "mixed_float16", "fp64": "float64"}


def resolve_precision(precision: str) -> str:
    """Keras policy for a spec precision; "auto" = mixed_bfloat16 where the device has native bf16, else float32."""
    if precision == "auto":
        return "mixed_bfloat16" if accelerator_supports_bf16() else "float32"
    return POLICIES[precision]


def logits_dtype() -> str:
    """The final Dense's dtype: float64 under the ``fp64`` policy, else float32 (the loss takes float32 logits).

    Under ``fp64`` a float32 head would round every gradient of the network below it.
    """
    return "float64" if keras.config.dtype_policy().name == "float64" else "float32"


@contextmanager
def dtype_policy(name: str) -> Iterator[str]:
    """Set the global dtype policy while the model is built and trained, then restore the previous one."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield name
    finally:
        keras.config.set_dtype_policy(previous)


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

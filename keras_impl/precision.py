"""training.precision as a Keras dtype policy (the final Dense is pinned to float32 by the builders)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import keras

from keras_impl.environment import accelerator_supports_bf16

POLICIES = {"fp32": "float32", "bf16": "mixed_bfloat16", "fp16": "mixed_float16"}


def policy_name(precision: str) -> str:
    """Keras policy for a spec precision; "auto" = mixed_bfloat16 where the device has native bf16, else float32."""
    if precision == "auto":
        return "mixed_bfloat16" if accelerator_supports_bf16() else "float32"
    return POLICIES[precision]


@contextmanager
def dtype_policy(name: str) -> Iterator[str]:
    """Set the global dtype policy while the model is built and trained, then restore the previous one."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield name
    finally:
        keras.config.set_dtype_policy(previous)

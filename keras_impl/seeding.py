"""Seeding and determinism: Keras' global seed, and the engine's deterministic-ops switch on request.

``torch_impl.seeding`` is the same job for torch.
"""

from __future__ import annotations

from collections.abc import Callable

import keras

from keras_impl.environment import engine_name

DETERMINISM_NOTES = {
    "jax": "jax: deterministic on CPU; on GPU set XLA_FLAGS=--xla_gpu_deterministic_ops=true before start",
    "tensorflow": "tf.config.experimental.enable_op_determinism()",
    "torch": "torch.use_deterministic_algorithms(True)",
}


def _nothing() -> None:
    return None


def seed_framework(seed: int, deterministic: bool) -> Callable[[], None]:
    """Seed Keras (python, numpy and the engine); with ``deterministic`` turn the engine's switch on.

    The switch is process-global: the returned function turns it off again unless it was already on.
    """
    keras.utils.set_random_seed(seed)
    if not deterministic or engine_name() == "jax":
        return _nothing
    if engine_name() == "tensorflow":
        # The public API can only switch determinism on; its off switch lives beside it (Keras uses it too).
        from tensorflow.python.framework import config as tf_config

        was_on = tf_config.is_op_determinism_enabled()
        tf_config.enable_op_determinism()
        return _nothing if was_on else tf_config.disable_op_determinism
    import torch

    was_on = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(True, warn_only=True)
    return lambda: torch.use_deterministic_algorithms(was_on)


def determinism_note(deterministic: bool) -> str | None:
    """What :func:`seed_framework` did for determinism on this engine (None when it was not asked)."""
    return DETERMINISM_NOTES[engine_name()] if deterministic else None


def reset_process_state() -> None:
    """Put back what a run may leave in the process, as a fresh worker has it (a warm worker calls this per run).

    A new Keras session (layer names, uids and graph state start over), float32 as the float type and dtype
    policy, Keras' default epsilon and image layout, and the engine's determinism switch off as at import.
    """
    keras.backend.clear_session()
    keras.config.set_floatx("float32")
    keras.config.set_dtype_policy("float32")
    keras.config.set_epsilon(1e-7)
    keras.config.set_image_data_format("channels_last")
    if engine_name() == "tensorflow":
        from tensorflow.python.framework import config as tf_config

        if tf_config.is_op_determinism_enabled():
            tf_config.disable_op_determinism()
    elif engine_name() == "torch":
        import torch

        torch.use_deterministic_algorithms(False)

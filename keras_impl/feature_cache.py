"""The frozen-prefix feature cache: cut a sequential model at a group boundary into two functional models.

Both halves reuse the full model's layer objects, so they share its weights and ``trainable`` flags: the
prefix computes the cached features (in inference mode), the suffix trains on them.
"""

from __future__ import annotations

from typing import Any

import keras

from keras_impl.models.registry import BuiltModel


def _boundary(built: BuiltModel, prefix: list[str]) -> Any:
    """The tensor the last layer of ``prefix`` outputs (the input of the first group after it)."""
    names = built.group_names
    if not built.sequential or names[: len(prefix)] != list(prefix) or len(prefix) >= len(names):
        raise ValueError(f"{prefix} is not a leading run of groups of this model ({', '.join(names)})")
    return built.groups[prefix[-1]][-1].output


def prefix_model(built: BuiltModel, prefix: list[str]) -> Any:
    """The model input -> the output of the ``prefix`` groups."""
    return keras.Model(built.model.input, _boundary(built, prefix), name="cached_prefix")


def suffix_model(built: BuiltModel, prefix: list[str]) -> Any:
    """The output of the ``prefix`` groups -> the logits: every group after ``prefix``, same layers."""
    return keras.Model(_boundary(built, prefix), built.model.output, name="suffix")

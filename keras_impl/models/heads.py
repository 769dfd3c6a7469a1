"""The classifier head put on a backbone (torch_impl.models.heads does the same in torch)."""

from __future__ import annotations

from typing import Any

from keras import layers

from keras_impl.precision import logits_dtype
from suite.spec.models import ModelSpec


def head_kind(spec: ModelSpec) -> str:
    """The pooling the head starts with: ``gap`` (also the default) or ``flatten``."""
    return "gap" if spec.head == "default" else spec.head


def head_layers(spec: ModelSpec, num_classes: int, default_dropout: float = 0.0) -> list[Any]:
    """The classifier for ``num_classes``: pooling, the family's default dropout or the spec's hidden layers, logits."""
    pool = (
        layers.Flatten(name="head_flatten")
        if head_kind(spec) == "flatten"
        else layers.GlobalAveragePooling2D(name="head_pool")
    )
    head: list[Any] = [pool]
    if spec.head == "default" and default_dropout:
        head.append(layers.Dropout(default_dropout, name="head_dropout"))
    for index, width in enumerate(spec.head_hidden):
        head.append(layers.Dense(width, activation="relu", name=f"head_dense_{index}"))
        if spec.head_dropout and spec.head_dropout[index] > 0:
            head.append(layers.Dropout(spec.head_dropout[index], name=f"head_dropout_{index}"))
    head.append(logits_layer(num_classes))
    return head


def logits_layer(num_classes: int) -> layers.Dense:
    """The final Dense: logits, float32 under float32 and mixed-precision policies, float64 under ``fp64``."""
    return layers.Dense(num_classes, dtype=logits_dtype(), name="logits")

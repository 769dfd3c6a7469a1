"""Analytic bytes of the trainable state: parameters, their gradients and the optimizer's slots.

Exact and comparable across frameworks: ``trainable parameters x 4 bytes (float32 master weights) x
(1 weight + 1 gradient + optimizer slots)``, with 2 slots for Adam/AdamW (first and second moments), 1 for SGD
with momentum and 0 for plain SGD. Mixed precision keeps float32 master weights in both frameworks.
"""

from __future__ import annotations

from typing import Any

BYTES_PER_PARAM = 4
OPTIMIZER_SLOTS = {"adam": 2, "adamw": 2, "sgd": 0}


def optimizer_slots(optimizer: dict[str, Any]) -> int:
    """State arrays per trainable parameter for the spec's ``optimizer`` table (plain data)."""
    name = optimizer.get("name", "adam")
    if name == "sgd" and optimizer.get("momentum"):
        return 1
    return OPTIMIZER_SLOTS[name]


def trainable_state_bytes(trainable_params: int, optimizer: dict[str, Any]) -> int:
    """Bytes of ``trainable_params`` float32 weights, as many gradients, and the optimizer's slots."""
    return int(trainable_params) * BYTES_PER_PARAM * (2 + optimizer_slots(optimizer))


def delta_bytes(trainable_params: int) -> int:
    """What one task must store when the frozen base is shared: the trained parameters as float32."""
    return int(trainable_params) * BYTES_PER_PARAM

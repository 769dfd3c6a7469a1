"""Initial weights drawn once, from the seed, in a neutral layout that every backend loads.

Layout (one array per :class:`~suite.runners.protocol.InitSlot`, in the model's slot order): dense kernels
(in, out) with inputs flattened in NHWC order, convolution kernels (kh, kw, in, out), depthwise kernels
(kh, kw, in, 1). Kernels and biases are uniform in ``±1/sqrt(fan_in)`` (PyTorch's default for Linear and
Conv); BatchNorm starts at gamma 1, beta 0, mean 0, variance 1. Each runner converts the layout to its own.
"""

from __future__ import annotations

import numpy as np

from suite.runners.protocol import InitSlot

_INIT_STREAM = 0x1417
_CONSTANT = {"bn_gamma": 1.0, "bn_beta": 0.0, "bn_mean": 0.0, "bn_var": 1.0}
_UNIFORM = {"dense_kernel", "conv_kernel", "depthwise_kernel", "bias"}


def draw_initial_weights(slots: list[InitSlot], seed: int) -> list[np.ndarray]:
    """One float32 array per slot, drawn from ``seed`` alone (the same arrays for every backend)."""
    rng = np.random.default_rng([seed, _INIT_STREAM])
    arrays = []
    for slot in slots:
        if slot.kind in _CONSTANT:
            arrays.append(np.full(slot.shape, _CONSTANT[slot.kind], dtype=np.float32))
        elif slot.kind in _UNIFORM:
            bound = 1.0 / np.sqrt(max(slot.fan_in, 1))
            arrays.append(rng.uniform(-bound, bound, size=slot.shape).astype(np.float32))
        else:
            raise ValueError(f"init slot {slot.name!r}: unknown kind {slot.kind!r}")
    return arrays

"""Weight conversion between the neutral layout and Keras' layer layout, in numpy, for every family.

The neutral layout of a catalog architecture is a flat ``{state-dict name: array}`` with torch's shapes
(convolutions ``(out, in, kh, kw)``, depthwise ``(in * multiplier, 1, kh, kw)``, dense ``(out, in)``): torchvision's
names for the ``"torchvision"`` layout, ``{keras layer}.{suffix}`` for the ``"keras.applications"`` layout
(:mod:`suite.architectures.keras_layout`). Keras' layout is ``{layer name: [arrays in the layer's weight order]}``.
A family's converter (``convert_<family>.layer_table``) pairs each torch module with its Keras layer and kind; the
functions here do the rest. ``num_batches_tracked`` counters are not weights and are left out.
"""

from __future__ import annotations

import hashlib
import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np

from suite.architectures.catalog import Architecture

Kind = Literal["conv", "conv_bias", "depthwise", "depthwise_bias", "bn", "dense", "plain"]
"""``conv``: Conv2D without bias; ``conv_bias``: with bias; ``depthwise(_bias)``: DepthwiseConv2D, Keras' kernel
(kh, kw, in, multiplier) against torch's grouped (in * multiplier, 1, kh, kw); ``bn``: gamma, beta, mean, variance;
``dense``: kernel (in, out) against (out, in), and bias; ``plain``: arrays the same in both (``LayerPair.suffixes``
names them in torch, in Keras' order)."""
KerasLayers = dict[str, list[np.ndarray]]
_TORCH_SUFFIXES: dict[str, tuple[str, ...]] = {
    "conv": ("weight",),
    "conv_bias": ("weight", "bias"),
    "depthwise": ("weight",),
    "depthwise_bias": ("weight", "bias"),
    "bn": ("weight", "bias", "running_mean", "running_var"),
    "dense": ("weight", "bias"),
}


class WeightsMismatchError(ValueError):
    """A weights file whose tensors do not fit the architecture (the message is one line)."""


@dataclass(frozen=True)
class LayerPair:
    """One weighted layer: its neutral (torch) module name, its Keras layer name and what kind of layer it is.

    ``multiplier``: a depthwise layer's channel multiplier; ``suffixes``: a ``plain`` layer's torch tensor names.
    """

    torch: str
    keras: str
    kind: Kind
    head: bool = False
    multiplier: int = 1
    suffixes: tuple[str, ...] = ()

    def torch_keys(self) -> list[str]:
        """The state-dict names this layer holds, in Keras' weight order."""
        suffixes = self.suffixes if self.kind == "plain" else _TORCH_SUFFIXES[self.kind]
        return [f"{self.torch}.{suffix}" for suffix in suffixes]


def layer_table(arch: Architecture) -> list[LayerPair]:
    """The family converter's table for ``arch``: every weighted layer in torchvision's state-dict order."""
    if not arch.converts_weights:
        raise ValueError(f"{arch.name} has no weight converter (layout {arch.layout!r})")
    if arch.layout == "keras.applications":
        from suite.architectures.keras_layout import keras_layer_table

        return keras_layer_table(arch)
    module = importlib.import_module(f"suite.architectures.convert_{arch.family}")
    return module.layer_table(arch)


def _to_keras_array(pair: LayerPair, index: int, array: np.ndarray) -> np.ndarray:
    if index != 0:
        return array
    if pair.kind in ("conv", "conv_bias"):
        return array.transpose(2, 3, 1, 0)  # (out, in, kh, kw) -> (kh, kw, in, out)
    if pair.kind in ("depthwise", "depthwise_bias"):  # (in * m, 1, kh, kw) -> (kh, kw, in, m)
        kh, kw = array.shape[2:]
        return array.transpose(2, 3, 0, 1).reshape(kh, kw, -1, pair.multiplier)
    if pair.kind == "dense":
        return array.T
    return array


def _to_torch_array(pair: LayerPair, index: int, array: np.ndarray) -> np.ndarray:
    if index != 0:
        return array
    if pair.kind in ("conv", "conv_bias"):
        return array.transpose(3, 2, 0, 1)
    if pair.kind in ("depthwise", "depthwise_bias"):  # output channel c * m + k in both frameworks
        kh, kw, channels, multiplier = array.shape
        return array.reshape(kh, kw, channels * multiplier, 1).transpose(2, 3, 0, 1)
    if pair.kind == "dense":
        return array.T
    return array


def to_keras(state: Mapping[str, np.ndarray], table: list[LayerPair]) -> KerasLayers:
    """Neutral arrays -> ``{keras layer: [arrays]}`` for every layer whose tensors are all present."""
    layers: KerasLayers = {}
    for pair in table:
        keys = pair.torch_keys()
        if all(key in state for key in keys):
            arrays = [np.asarray(state[key]) for key in keys]
            layers[pair.keras] = [np.asarray(_to_keras_array(pair, i, a), order="C") for i, a in enumerate(arrays)]
    return layers


def to_neutral(layers: Mapping[str, list[np.ndarray]], table: list[LayerPair]) -> dict[str, np.ndarray]:
    """``{keras layer: [arrays]}`` -> neutral arrays, for every layer of ``table`` present."""
    state: dict[str, np.ndarray] = {}
    for pair in table:
        if pair.keras not in layers:
            continue
        for index, (key, array) in enumerate(zip(pair.torch_keys(), layers[pair.keras], strict=True)):
            state[key] = np.asarray(_to_torch_array(pair, index, np.asarray(array)), order="C")
    return state


def head_keys(table: list[LayerPair]) -> tuple[str, ...]:
    """Name prefixes of head tensors: the table's classifier and the suite's own ``head.`` group."""
    return (*(f"{pair.torch}." for pair in table if pair.head), "head.")


def check_fit(
    state: Mapping[str, np.ndarray], expected: Mapping[str, tuple[int, ...]], head: tuple[str, ...], source: str
) -> dict[str, np.ndarray]:
    """The tensors of ``state`` to load; one-line :class:`WeightsMismatchError` naming the first one that does not fit.

    Every body tensor of ``expected`` must be present with its shape and ``state`` may hold no other body tensor;
    head tensors (names starting with a ``head`` prefix) load when their shape fits and are left to the new head
    otherwise.
    """
    usable: dict[str, np.ndarray] = {}
    for key, shape in expected.items():
        array = state.get(key)
        if array is not None and tuple(np.shape(array)) == tuple(shape):
            usable[key] = np.asarray(array)
        elif not key.startswith(head):
            found = "missing" if array is None else f"shape {tuple(np.shape(array))}, expected {tuple(shape)}"
            raise WeightsMismatchError(f"{source}: tensor {key!r} does not fit the architecture ({found})")
    extra = [key for key in state if key not in expected and not key.startswith(head) and "num_batches" not in key]
    if extra:
        raise WeightsMismatchError(f"{source}: tensor {extra[0]!r} does not fit the architecture (not one of its own)")
    return usable


def fingerprint(state: Mapping[str, np.ndarray]) -> str:
    """A short hash of neutral arrays (names, shapes and float32 values), the same in every backend."""
    digest = hashlib.sha256()
    for key in sorted(state):
        if key.endswith("num_batches_tracked"):
            continue
        array = np.ascontiguousarray(state[key], dtype=np.float32)
        digest.update(f"{key}:{array.shape};".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()[:16]

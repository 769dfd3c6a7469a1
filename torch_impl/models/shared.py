"""The catalog's shared architectures (:mod:`suite.architectures.catalog`) in torch: weights in the neutral layout.

torchvision builds these networks itself (``torch_impl.models.applications``); this module pairs the suite's
regrouped state-dict names (``stem.0.weight``, ``head.2.bias``) with torchvision's (``conv1.weight``, ``fc.bias``),
loads weight files of either framework through the family's converter and writes checkpoints in torchvision's
layout, so a torchvision / timm tool or the Keras runner reads them. Mirrors ``keras_impl/models/shared.py``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from suite.architectures.catalog import Architecture
from suite.architectures.convert import WeightsMismatchError, check_fit, fingerprint, head_keys, layer_table, to_neutral
from suite.architectures.keras_layout import keras_file_names
from suite.architectures.weight_files import (
    file_format,
    keras_imagenet_missing,
    read_keras_file,
    read_safetensors,
    resolve_weights_file,
)
from suite.store.weights_ref import is_run_reference, resolve_run_weights
from torch_impl.models.registry import BuiltModel
from torch_impl.models.weights import fetch_state_dict, load_local_state_dict, resolve_torchvision_weights


def neutral_keys(built: BuiltModel, network: nn.Module) -> dict[str, str]:
    """Suite state-dict name -> torchvision name, for every tensor ``built`` shares with ``network`` (and its head).

    The new head's Linear is torchvision's ``fc`` when the head is the default one (pool, flatten, Linear).
    """
    by_tensor = {id(tensor): name for name, tensor in network.state_dict(keep_vars=True).items()}
    keys = {}
    for name, tensor in built.module.state_dict(keep_vars=True).items():
        if id(tensor) in by_tensor and not by_tensor[id(tensor)].startswith("fc."):
            keys[name] = by_tensor[id(tensor)]
    head = built.groups["head"][-1]
    linears = [(name, module) for name, module in head.named_modules() if isinstance(module, nn.Linear)]
    if len(linears) == 1:
        prefix = next(n for n, m in built.module.named_modules() if m is linears[0][1])
        keys.update({f"{prefix}.weight": "fc.weight", f"{prefix}.bias": "fc.bias"})
    return keys


def neutral_state(built: BuiltModel) -> dict[str, torch.Tensor]:
    """The module's state dict under torchvision's names (tensors it has no such name for keep the suite's)."""
    return {built.neutral_keys.get(name, name): tensor for name, tensor in built.module.state_dict().items()}


def _read(arch: Architecture, path: Path) -> dict[str, np.ndarray]:
    kind = file_format(path)
    if kind == "safetensors":
        return read_safetensors(path)
    if kind == "keras":
        layers, table = read_keras_file(path), layer_table(arch)
        if arch.layout == "keras.applications" and not all(pair.keras in layers for pair in table if not pair.head):
            by_path = keras_file_names(arch)  # a .weights.h5 saved by Keras itself: paths by class and counter
            # (a layer whose name is its class path, EfficientNet's ``normalization``, is itself in both)
            layers = {by_path.get(key, key): arrays for key, arrays in layers.items()}
        if layers and not any(pair.keras in layers for pair in table):
            raise WeightsMismatchError(
                f"{path}: Keras names its layers by class ({next(iter(layers))}, ...) in a file the suite's Keras "
                "runner did not write; start a Keras run from it (model.weights) and load that run's checkpoint here"
            )
        return to_neutral(layers, table)
    state = load_local_state_dict(path)
    return {key: value.detach().float().numpy() for key, value in state.items() if value.is_floating_point()}


def read_weights(arch: Architecture, weights: str) -> tuple[dict[str, np.ndarray], str]:
    """Neutral arrays of ``weights`` (a file of either framework, ``"imagenet"`` or an enum member) and their source."""
    torchvision = arch.layout == "torchvision" and not is_run_reference(weights)
    published = resolve_torchvision_weights(arch.name, weights) if torchvision else None
    if published is not None:
        state = fetch_state_dict(published)
        return {key: value.float().numpy() for key, value in state.items() if value.is_floating_point()}, str(published)
    path = resolve_run_weights(weights) if is_run_reference(weights) else resolve_weights_file(arch, weights)
    if not path.is_file():
        if arch.layout == "keras.applications" and weights == "imagenet":
            raise FileNotFoundError(keras_imagenet_missing(arch, path))
        raise FileNotFoundError(f"model.weights: {path} does not exist")
    return _read(arch, path), str(path)


@torch.no_grad()
def load_shared_weights(built: BuiltModel, arch: Architecture, weights: str) -> None:
    """Load ``weights`` into ``built`` through the neutral layout; the head loads only where its shape fits."""
    if weights == "none":
        return
    state, source = read_weights(arch, weights)
    state = {built.neutral_keys.get(key, key): array for key, array in state.items()}  # also the suite's own names
    own = neutral_state(built)
    expected = {key: tuple(tensor.shape) for key, tensor in own.items() if tensor.is_floating_point()}
    usable = check_fit(state, expected, head_keys(layer_table(arch)), source)
    for key, array in usable.items():
        own[key].copy_(torch.from_numpy(np.asarray(array, order="C")).to(own[key].dtype))
    built.weights_fingerprint = fingerprint(state)

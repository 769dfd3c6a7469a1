"""Starting weights of keras.applications bases and of the catalog's shared architectures.

keras.applications rows not in the catalog: none, ImageNet from Keras' cache, or a local file. Catalog architectures:
a file of either framework, a published name (torchvision's, or Keras' cache file for the keras layout) or ``run:``,
through the family's converter.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras
import numpy as np

from keras_impl.models.families import ApplicationModel
from keras_impl.models.registry import BuiltModel
from suite.architectures.catalog import Architecture
from suite.architectures.convert import (
    LayerPair,
    WeightsMismatchError,
    check_fit,
    fingerprint,
    head_keys,
    layer_table,
    to_keras,
    to_neutral,
)
from suite.architectures.weight_files import (
    file_format,
    keras_imagenet_missing,
    keras_models_dir,
    name_keras_layers,
    read_keras_file,
    read_safetensors,
    resolve_weights_file,
)
from suite.store.weights_ref import is_run_reference, resolve_run_weights


class WeightsUnavailableError(RuntimeError):
    """Pretrained weights could not be found or downloaded."""


def create_base(app: ApplicationModel, weights: str, input_shape: tuple[int, int, int]) -> Any:
    """``keras.applications.<app>(include_top=False)`` with ``weights`` = "none", "imagenet" or a file path."""
    constructor = getattr(keras.applications, app.constructor)
    if weights == "none":
        return constructor(include_top=False, weights=None, input_shape=input_shape)
    if weights == "imagenet":
        return _create_imagenet_base(app, constructor, input_shape)
    path = Path(weights).expanduser()
    if not path.is_file():
        raise WeightsUnavailableError(
            f"model.weights = {weights!r} is neither 'none', 'imagenet' nor an existing weights file"
        )
    base = constructor(include_top=False, weights=None, input_shape=input_shape)
    try:
        base.load_weights(str(path))
    except Exception as exc:  # garbage, another architecture, a Lambda layer: one line naming the file and the fix
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        reason = f"{type(exc).__name__}: {lines[0][:300] if lines else ''}"
        raise WeightsUnavailableError(
            f"model.weights: {path} cannot be loaded into {app.name}: {reason} "
            f"(give a .weights.h5 or .keras file saved from keras.applications.{app.constructor}, "
            "without Lambda layers)"
        ) from exc
    return base


def _create_imagenet_base(app: ApplicationModel, constructor: Any, input_shape: tuple[int, int, int]) -> Any:
    try:
        return constructor(include_top=False, weights="imagenet", input_shape=input_shape)
    except ValueError:
        raise  # bad input shape or channel count: Keras' own message is the clear one
    except Exception as error:  # keras.utils.get_file raises a bare Exception when the download fails
        raise WeightsUnavailableError(imagenet_missing_message(app, input_shape[0], error)) from error


def imagenet_missing_message(app: ApplicationModel, image_size: int, error: BaseException) -> str:
    """Explain which file keras.applications needs, where it looks, and how to provide it offline."""
    directory = keras_models_dir()
    file_name = app.weights_file_for(image_size)
    return (
        f"ImageNet weights for {app.name} are not available: keras.applications looks for "
        f"'{file_name}' in '{directory}' and could not download it ({error}). "
        f"Offline, copy that file to {directory / file_name} (or point KERAS_HOME at a directory whose "
        f"models/ holds it), or set model.weights to the path of a local weights file."
    )


def keras_file_paths(model: Any) -> dict[str, Any]:
    """Keras' own path of each layer in a ``.weights.h5`` of ``model`` (``conv2d_7``: class name and counter)."""
    from keras.src.utils.naming import to_snake_case

    used: dict[str, int] = {}
    paths: dict[str, Any] = {}
    for layer in model._layers:
        name = to_snake_case(type(layer).__name__)
        used[name] = used.get(name, -1) + 1
        paths[name if used[name] == 0 else f"{name}_{used[name]}"] = layer
    return paths


def save_named_weights(model: Any, path: Path) -> None:
    """``model.save_weights(path)`` plus each layer's own name beside its arrays (any backend can read it)."""
    model.save_weights(str(path))
    name_keras_layers(path, {file_path: layer.name for file_path, layer in keras_file_paths(model).items()})


def _read_torch_file(path: Path) -> dict[str, np.ndarray]:
    """A torch checkpoint's state dict as numpy (torch is imported here only: reading needs its unpickler)."""
    import torch

    loaded = torch.load(path, map_location="cpu", weights_only=True)
    for key in ("state_dict", "model"):
        if isinstance(loaded, dict) and isinstance(loaded.get(key), dict):
            loaded = loaded[key]
    if not isinstance(loaded, dict):
        raise WeightsMismatchError(f"{path}: does not hold a state dict (got {type(loaded).__name__})")
    return {key: value.detach().float().numpy() for key, value in loaded.items() if value.is_floating_point()}


def _own_layers(built: BuiltModel, table: list[LayerPair]) -> dict[str, list[np.ndarray]]:
    names = {pair.keras for pair in table}
    return {
        layer.name: [np.asarray(keras.ops.convert_to_numpy(v)) for v in layer.weights]
        for layer in built.model.layers
        if layer.name in names
    }


def read_neutral(built: BuiltModel, arch: Architecture, path: Path) -> dict[str, np.ndarray]:
    """The arrays of a weights file of either framework in the neutral (torchvision) layout."""
    kind = file_format(path)
    if kind == "torch":
        return _read_torch_file(path)
    if kind == "safetensors":
        return read_safetensors(path)
    layers = read_keras_file(path)
    by_path = keras_file_paths(built.model)
    layers = {by_path[key].name if key in by_path else key: arrays for key, arrays in layers.items()}
    return to_neutral(layers, layer_table(arch))


def load_shared_weights(built: BuiltModel, arch: Architecture, weights: str) -> None:
    """Load ``weights`` (a file of either framework, a torchvision name or ``run:``) through the family's converter.

    The head loads when its shape fits and is left to the new head otherwise; ``built.notes`` records the
    fingerprint of the weights as loaded.
    """
    if weights == "none":
        return
    path = resolve_run_weights(weights) if is_run_reference(weights) else resolve_weights_file(arch, weights)
    if not path.is_file():
        if arch.layout == "keras.applications" and weights == "imagenet":
            raise WeightsUnavailableError(keras_imagenet_missing(arch, path))
        hint = " (torchvision's cache: a torch run of this model downloads it)" if weights == "imagenet" else ""
        raise WeightsUnavailableError(f"model.weights = {weights!r}: {path} does not exist{hint}")
    table = layer_table(arch)
    state = read_neutral(built, arch, path)
    expected = {key: array.shape for key, array in to_neutral(_own_layers(built, table), table).items()}
    usable = check_fit(state, expected, head_keys(table), str(path))
    for name, arrays in to_keras(usable, table).items():
        layer = built.model.get_layer(name)
        for variable, array in zip(layer.weights, arrays, strict=True):
            variable.assign(np.asarray(array, dtype=variable.dtype))
        if isinstance(layer, keras.layers.Normalization):
            layer.finalize_state()  # it computes with copies of mean and variance, made when the weights change
    built.notes["weights_fingerprint"] = fingerprint(state)

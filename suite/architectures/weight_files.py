"""Weight files read and annotated without a framework: safetensors, Keras' ``.weights.h5`` / ``.keras`` / ``.h5``.

Keras 3 names a layer's group in ``.weights.h5`` after its class (``layers/conv2d_7/vars/0``), not after the layer;
the Keras runner writes each layer's own name beside it (attribute ``name``) so that a backend without Keras can
pair the file with the converter's table. A legacy ``.h5`` (``keras.applications``, ``save_weights`` in Keras 2)
keys layers by name already. Torch's pickled ``.pt`` / ``.pth`` need torch and are read by the runners.
"""

from __future__ import annotations

import io
import os
import re
import zipfile
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from suite.architectures.catalog import Architecture

KERAS_SUFFIXES = (".weights.h5", ".keras", ".h5")
TORCH_SUFFIXES = (".pt", ".pth", ".bin")
SAFETENSORS_SUFFIX = ".safetensors"
LAYER_NAME_ATTRIBUTE = "name"
RUN_PREFIX = "run:"
_ENUM_MEMBER = re.compile(r"^[A-Z][A-Z0-9_]*$")


def file_format(path: Path) -> str:
    """``"keras"``, ``"torch"`` or ``"safetensors"`` from the file name; ValueError naming the file otherwise."""
    name = path.name.lower()
    if name.endswith(KERAS_SUFFIXES):
        return "keras"
    if name.endswith(TORCH_SUFFIXES):
        return "torch"
    if name.endswith(SAFETENSORS_SUFFIX):
        return "safetensors"
    known = ", ".join((*TORCH_SUFFIXES, SAFETENSORS_SUFFIX, *KERAS_SUFFIXES))
    raise ValueError(f"weights file {path}: unknown format (expected one of {known})")


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """Every tensor of a ``.safetensors`` file as numpy."""
    from safetensors.numpy import load_file

    return dict(load_file(str(path)))


def _open_h5(path: Path) -> h5py.File:
    if path.name.lower().endswith(".keras"):
        with zipfile.ZipFile(path) as archive:
            return h5py.File(io.BytesIO(archive.read("model.weights.h5")), "r")
    return h5py.File(path, "r")


def _keras3_layers(root: h5py.Group) -> dict[str, list[np.ndarray]]:
    """``{layer: [arrays]}`` of a Keras 3 file; keyed by the layer's own name where the file records it."""
    layers: dict[str, list[np.ndarray]] = {}
    for path, group in root["layers"].items():
        arrays = _vars(group)
        if arrays:
            layers[str(group.attrs.get(LAYER_NAME_ATTRIBUTE, path))] = arrays
    return layers


def _vars(group: h5py.Group) -> list[np.ndarray]:
    variables = group.get("vars")
    if variables is None:
        return []
    return [np.asarray(variables[str(index)]) for index in range(len(variables))]


def _legacy_layers(root: h5py.Group) -> dict[str, list[np.ndarray]]:
    """``{layer: [arrays]}`` of a Keras 2 style ``.h5`` (``layer_names`` / ``weight_names`` attributes)."""
    root = root["model_weights"] if "model_weights" in root else root
    layers: dict[str, list[np.ndarray]] = {}
    for raw in root.attrs.get("layer_names", []):
        name = raw.decode() if isinstance(raw, bytes) else str(raw)
        group = root[name]
        names = [w.decode() if isinstance(w, bytes) else str(w) for w in group.attrs.get("weight_names", [])]
        if names:
            layers[name] = [np.asarray(group[weight]) for weight in names]
    return layers


def read_keras_file(path: Path) -> dict[str, list[np.ndarray]]:
    """``{layer name (or Keras' file path of it): [arrays in the layer's weight order]}`` of a Keras weights file."""
    with _open_h5(path) as root:
        return _keras3_layers(root) if "layers" in root else _legacy_layers(root)


def name_keras_layers(path: Path, names: dict[str, str]) -> None:
    """Write each layer's own name (``names``: Keras' file path -> layer name) beside its arrays in ``path``."""
    with h5py.File(path, "a") as root:
        for file_path, name in names.items():
            group: Any = root.get(f"layers/{file_path}")
            if group is not None:
                group.attrs[LAYER_NAME_ATTRIBUTE] = name


def torch_hub_checkpoints() -> Path:
    """The torchvision download cache: ``$TORCH_HOME/hub/checkpoints`` (default ``~/.cache/torch``)."""
    cache = Path(os.environ.get("XDG_CACHE_HOME", "~/.cache")).expanduser()
    return Path(os.environ.get("TORCH_HOME", cache / "torch")).expanduser() / "hub" / "checkpoints"


def keras_models_dir() -> Path:
    """Directory keras.applications caches weights in: ``$KERAS_HOME/models`` (default ``~/.keras/models``)."""
    home = Path(os.path.expanduser(os.environ.get("KERAS_HOME", os.path.join("~", ".keras"))))
    if not os.access(home if home.exists() else home.parent, os.W_OK):
        home = Path("/tmp/.keras")  # keras' own fallback when its home is not writable
    return home / "models"


def published_file(arch: Architecture, weights: str) -> Path:
    """The cache file of ``weights``: torchvision's, or Keras' for the keras.applications layout.

    torchvision: ``"imagenet"`` = the newest member, or an enum member name; keras layout: ``"imagenet"`` only,
    the no-top ImageNet file in Keras' cache.
    """
    if arch.layout == "keras.applications":
        if weights != "imagenet":
            raise ValueError(f"model.weights = {weights!r}: {arch.name} has 'imagenet' (Keras' cache file)")
        return keras_models_dir() / arch.options["weights_file"]
    published: dict[str, str] = dict(arch.options.get("torchvision_weights", {}))
    if not published:
        raise ValueError(f"model.weights = {weights!r}: {arch.name} has no published weights")
    member = next(iter(published)) if weights == "imagenet" else weights
    if member not in published:
        raise ValueError(f"model.weights = {weights!r}: {arch.name} has {', '.join(['imagenet', *published])}")
    return torch_hub_checkpoints() / published[member]


def resolve_weights_file(arch: Architecture, weights: str) -> Path:
    """The file ``model.weights`` names: a path, or torchvision's cache file of ``"imagenet"`` / an enum member."""
    if weights == "imagenet" or _ENUM_MEMBER.match(weights):
        return published_file(arch, weights)
    return Path(weights).expanduser()


def shared_weights_problems(arch: Architecture, model: Any) -> list[str]:
    """Problems with ``model.weights`` / ``model.depth`` of a catalog architecture seen without building it."""
    problems = []
    weights = model.weights
    if model.depth is not None and arch.layout == "keras.applications":
        problems.append(f"model.depth truncates the torchvision-layout ResNets only, not {arch.name}")
    elif model.depth is not None and not 1 <= model.depth <= len(arch.groups) - 2:
        problems.append(f"model.depth must be 1..{len(arch.groups) - 2} for {arch.name}, got {model.depth}")
    if weights == "none" or weights.startswith(RUN_PREFIX):
        return problems  # a run: reference is the store's to resolve (suite.store.weights_ref)
    try:
        path = resolve_weights_file(arch, weights)
        file_format(path)
    except ValueError as error:
        return [*problems, str(error)]
    published = path.parent in (torch_hub_checkpoints(), keras_models_dir())  # fetched by the runner / prefetch
    if not path.is_file() and not published:
        problems.append(f"model.weights {weights!r}: file {path} does not exist")
    return problems


def keras_imagenet_missing(arch: Architecture, path: Path) -> str:
    """One line: the Keras cache file ``weights = "imagenet"`` of a keras-layout entry needs, and how to provide it."""
    return (
        f"model.weights = 'imagenet': {arch.name} reads keras.applications' file {path.name} from Keras' cache "
        f"{path.parent}, which does not hold it; copy it there (or set KERAS_HOME), or give a weights file's path"
    )

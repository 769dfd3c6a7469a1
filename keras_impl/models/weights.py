"""Starting weights for keras.applications bases: none, ImageNet (Keras cache) or a local file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import keras

from keras_impl.models.families import ApplicationModel


class WeightsUnavailableError(RuntimeError):
    """Pretrained weights could not be found or downloaded."""


def keras_models_dir() -> Path:
    """Directory keras.applications caches weights in: ``$KERAS_HOME/models`` (default ``~/.keras/models``)."""
    home = Path(os.path.expanduser(os.environ.get("KERAS_HOME", os.path.join("~", ".keras"))))
    if not os.access(home if home.exists() else home.parent, os.W_OK):
        home = Path("/tmp/.keras")  # keras' own fallback when its home is not writable
    return home / "models"


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

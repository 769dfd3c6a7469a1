"""keras.applications' MobileNetV2, MobileNetV3Large and EfficientNetB0 / B3 as the catalog declares them.

The constructor's network, cloned layer for layer (same classes and configs, fresh weights from the same
initialisers) so that: every layer carries its declared name (Keras names activations and preprocessing layers
from a per-session counter, ``re_lu_7``, which a second build in one process would shift); EfficientNet has the
``rescaling_1`` layer keras.applications adds for ImageNet weights (1 / sqrt of ImageNet's standard deviation,
which completes the published weights' normalisation), whatever ``model.weights`` says, so ImageNet weights give
seed 003's function; and EfficientNet's stochastic depth is ``model.dropout`` (Keras' 0.2 by default) per block
as Keras scales it, the masks drawn by Keras. Mirrors ``torch_impl/models/keras_mbconv.py``.
"""

from __future__ import annotations

import math
from typing import Any

import keras

from keras_impl.models.keras_layout import register_base
from suite.architectures.catalog import Architecture
from suite.architectures.keras_layout import keras_layers
from suite.spec.models import ModelSpec

IMAGENET_RESCALING = "rescaling_1"
"""The layer keras.applications' EfficientNet adds after ``normalization`` for ImageNet weights."""


def _imagenet_rescaling() -> keras.layers.Layer:
    from keras.src.applications.efficientnet import IMAGENET_STDDEV_RGB

    scale = [1.0 / math.sqrt(deviation) for deviation in IMAGENET_STDDEV_RGB]
    return keras.layers.Rescaling(scale, name=IMAGENET_RESCALING)


def _declared_clone(arch: Architecture, spec: ModelSpec, base: keras.Model, inserted: tuple[str, ...]) -> keras.Model:
    """``base`` rebuilt with the declared names (``inserted``: declared layers it lacks), drop rates per the spec."""
    declared = [layer.name for layer in keras_layers(arch) if layer.name not in inserted]
    layers = [layer for layer in base.layers if type(layer).__name__ != "InputLayer"]
    if len(layers) != len(declared):
        raise ValueError(
            f"{arch.name}: keras.applications builds {len(layers)} layers, the catalog declares {len(declared)}"
        )
    names = {id(layer): name for layer, name in zip(layers, declared, strict=True)}
    default = arch.options.get("drop_connect_rate", 0.0)
    rate = default if spec.dropout is None else spec.dropout

    def clone(layer: Any) -> Any:
        config = {**layer.get_config(), "name": names.get(id(layer), layer.name)}  # the input layer keeps its own
        if isinstance(layer, keras.layers.Dropout) and default:
            config["rate"] = layer.rate * rate / default  # Keras' drop_connect_rate * b / blocks, with the spec's rate
        return layer.__class__.from_config(config)

    def call(layer: Any, *args: Any, **kwargs: Any) -> Any:
        outputs = layer(*args, **kwargs)
        if IMAGENET_RESCALING in inserted and layer.name == "normalization":
            outputs = _imagenet_rescaling()(outputs)
        return outputs

    return keras.models.clone_model(base, clone_function=clone, call_function=call)


def _constructed(arch: Architecture, input_shape: tuple[int, int, int]) -> keras.Model:
    constructor = getattr(keras.applications, arch.options["constructor"])
    return constructor(include_top=False, weights=None, input_shape=input_shape)


@register_base("keras_mobilenet_v3")
def mobilenet_v3_base(arch: Architecture, spec: ModelSpec, input_shape: tuple[int, int, int]) -> keras.Model:
    """``MobileNetV3Large(include_top=False)`` with its activations named as a fresh session names them."""
    return _declared_clone(arch, spec, _constructed(arch, input_shape), ())


@register_base("keras_efficientnet")
def efficientnet_base(arch: Architecture, spec: ModelSpec, input_shape: tuple[int, int, int]) -> keras.Model:
    """``EfficientNetB<n>(include_top=False)`` as built for ImageNet weights, stochastic depth ``model.dropout``."""
    return _declared_clone(arch, spec, _constructed(arch, input_shape), (IMAGENET_RESCALING,))

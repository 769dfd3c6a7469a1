"""The keras.applications layout: a catalog entry's Keras base, layer by layer, as the core sees it.

A ``layout = "keras.applications"`` architecture is the network ``keras.applications`` builds
(``include_top=False``), and its family module (``suite.architectures.convert_<family>``) declares the base's layers
in ``base.layers`` order (the input layer left out): each layer's Keras name, the kind of weights it holds
(``"none"`` for weightless layers: padding, activations, pooling, additions) and its group. From that one list come
the converter's table (every weighted layer; the neutral name of a tensor is ``{keras layer}.{torch suffix}``, with
torch's shapes), the groups of both backends, and what ``finetune.unfreeze_last_layers = N`` unfreezes in both: the
last N layers of this list (seed 003's ``base_model.layers[-N:]``, weightless layers counted). The Keras runner
checks that its base has exactly these layers; the torch twin names the module of each weighted layer after it.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import get_args

from suite.architectures.catalog import Architecture
from suite.architectures.convert import Kind, LayerPair

HEAD_LAYER = "logits"
"""The suite's classifier Dense, in every backend (Keras' layer name, the neutral name's prefix)."""
WEIGHTLESS = "none"
_KERAS_CLASSES = {
    "conv": "conv2d",
    "conv_bias": "conv2d",
    "depthwise": "depthwise_conv2d",
    "depthwise_bias": "depthwise_conv2d",
    "bn": "batch_normalization",
    "dense": "dense",
}


@dataclass(frozen=True)
class KerasLayer:
    """One layer of the Keras base: its name, the kind of its weights (``"none"``: weightless) and its group."""

    name: str
    kind: str
    group: str
    multiplier: int = 1
    keras_class: str = ""
    """Keras' snake-case class name (``conv2d``) where the kind does not tell it (``plain`` layers)."""
    suffixes: tuple[str, ...] = ()
    """A ``plain`` layer's torch tensor names, in Keras' weight order."""

    def __post_init__(self) -> None:
        if self.kind != WEIGHTLESS and self.kind not in get_args(Kind):
            raise ValueError(f"keras layer {self.name!r}: unknown kind {self.kind!r}")

    @property
    def weighted(self) -> bool:
        """True when the layer holds arrays (a converter pair)."""
        return self.kind != WEIGHTLESS


def keras_layers(arch: Architecture) -> tuple[KerasLayer, ...]:
    """The declared layers of ``arch``'s Keras base, in ``base.layers`` order (input layer left out)."""
    if arch.layout != "keras.applications":
        raise ValueError(f"{arch.name} is not in the keras.applications layout (layout {arch.layout!r})")
    module = importlib.import_module(f"suite.architectures.convert_{arch.family}")
    return tuple(module.keras_layers(arch))


def keras_layer_table(arch: Architecture) -> list[LayerPair]:
    """The converter's table of a keras-layout entry: every weighted base layer, then the suite's head."""
    pairs = [
        LayerPair(layer.name, layer.name, layer.kind, multiplier=layer.multiplier, suffixes=layer.suffixes)  # type: ignore[arg-type]
        for layer in keras_layers(arch)
        if layer.weighted
    ]
    return [*pairs, LayerPair(HEAD_LAYER, HEAD_LAYER, "dense", head=True)]


def keras_file_names(arch: Architecture) -> dict[str, str]:
    """Keras 3's ``.weights.h5`` path of each weighted layer (class name and counter: ``conv2d_7``) -> its name.

    That is how ``save_weights`` of the base, or of the base with the suite's head, names a layer's arrays.
    """
    used: dict[str, int] = {}
    names: dict[str, str] = {}
    weighted = [layer for layer in keras_layers(arch) if layer.weighted]
    for layer in weighted:
        kind = layer.keras_class or _KERAS_CLASSES[layer.kind]
        used[kind] = used.get(kind, -1) + 1
        names[kind if used[kind] == 0 else f"{kind}_{used[kind]}"] = layer.name
    head = "dense" if "dense" not in used else f"dense_{used['dense'] + 1}"
    return {**names, head: HEAD_LAYER}


def layer_groups(arch: Architecture) -> dict[str, str]:
    """Keras layer name -> group name, for every declared base layer."""
    return {layer.name: layer.group for layer in keras_layers(arch)}


def check_declared_groups(arch: Architecture) -> None:
    """ValueError when the declared layers' groups are not the catalog's body groups, in order."""
    seen = list(dict.fromkeys(layer.group for layer in keras_layers(arch)))
    body = [name for name in arch.groups if name != "head"]
    if seen != body:
        raise ValueError(f"{arch.name}: declared layers fall into groups {seen}, the catalog declares {body}")

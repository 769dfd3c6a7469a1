"""Model registry: name -> builder returning the network and its named layer groups."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from torch import nn

from suite.spec.models import ModelSpec

InputShape = tuple[int, int, int]


@dataclass
class BuiltModel:
    """A network plus the names transfer learning works with.

    ``groups`` maps a group name to its modules in forward order, ``"head"`` last. When
    ``staged`` is true the network is an ``nn.Sequential`` whose children are exactly the groups,
    so a prefix of groups can run on its own (feature cache, depth truncation). For a catalog architecture,
    ``neutral_keys`` maps its state-dict names to torchvision's and ``weights_fingerprint`` is the hash of the
    weights it was loaded with (:func:`suite.architectures.convert.fingerprint`). A keras-layout entry lists its
    Keras base's layers in order with the module of each (``keras_layers``; None for a weightless layer without
    one): ``finetune.unfreeze_last_layers = N`` trains the last N, as Keras' ``base.layers[-N:]``.
    """

    module: nn.Module
    groups: dict[str, list[nn.Module]]
    staged: bool = False
    notes: list[str] = field(default_factory=list)
    neutral_keys: dict[str, str] = field(default_factory=dict)
    weights_fingerprint: str | None = None
    keras_layers: list[tuple[str, nn.Module | None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        names = list(self.groups)
        if not names or names[-1] != "head":
            raise ValueError(f"layer groups must end with 'head', got {names}")


Builder = Callable[[ModelSpec, InputShape, int], BuiltModel]


@dataclass(frozen=True)
class ModelEntry:
    """A registered model builder with its description and the weights it accepts."""

    name: str
    builder: Builder
    description: str
    loads_weights: bool


_MODELS: dict[str, ModelEntry] = {}


def register_model(name: str, *, description: str = "", loads_weights: bool = False) -> Callable[[Builder], Builder]:
    """Decorator registering ``builder`` under ``name``; a duplicate name is an error.

    ``loads_weights`` says the builder applies ``spec.weights`` itself; otherwise the factory loads a
    local weights file into the built network and rejects published weights.
    """

    def decorate(builder: Builder) -> Builder:
        if name in _MODELS:
            raise ValueError(f"model {name!r} is already registered")
        _MODELS[name] = ModelEntry(name, builder, description or (builder.__doc__ or "").strip(), loads_weights)
        return builder

    return decorate


def registered_models() -> dict[str, ModelEntry]:
    """Explicitly registered models (torchvision names are resolved separately)."""
    return dict(_MODELS)

"""Model registry: a name maps to a builder ``(ModelSpec, input_shape, num_classes, BuildOptions) -> BuiltModel``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from suite.architectures.catalog import KERAS_PREFIX
from suite.architectures.groups import HEAD_GROUP as HEAD_GROUP  # re-exported: one name for the head everywhere
from suite.spec.models import ModelSpec


@dataclass
class BuiltModel:
    """A Keras model plus the named layer groups that freezing and parameter counts work on.

    ``groups`` maps a group name to its layers, in input-to-output order, ``"head"`` last.
    ``backbone_layers`` is the ordered layer list of the feature extractor (``base.layers`` for
    keras.applications models, as the seed's ``base_model.layers[-N:]`` counts them);
    ``base`` is that nested extractor model when there is one.
    ``preprocess`` maps a float32 NHWC batch to the model's input (a keras.applications ``preprocess_input``
    when the data are not normalised) or is None. ``sequential``: the groups run one after another on one
    tensor, so the model can be cut at a group boundary (:mod:`keras_impl.feature_cache`).
    ``notes`` records choices worth keeping in ``RunOutput.extra`` (e.g. which preprocess_input ran).
    ``weight_order``: the weighted layers' names in the neutral layout's order (the catalog converter's table),
    when it differs from the model's own topological order; empty otherwise.
    The model outputs logits (float32).
    """

    model: Any
    groups: dict[str, list[Any]]
    backbone_layers: list[Any]
    base: Any = None
    preprocess: Callable[[np.ndarray], np.ndarray] | None = None
    sequential: bool = True
    notes: dict[str, Any] = field(default_factory=dict)
    weight_order: tuple[str, ...] = ()

    @property
    def group_names(self) -> list[str]:
        """Group names, input to output."""
        return list(self.groups)


@dataclass(frozen=True)
class BuildOptions:
    """How the runner wants a model wired, beyond the ModelSpec.

    ``preprocess_input``: apply the family's ``keras.applications`` ``preprocess_input`` to the inputs
    (used when the dataset is not normalised, i.e. inputs are 0..255 as those functions expect).
    """

    preprocess_input: bool = False


Builder = Callable[[ModelSpec, tuple[int, int, int], int, BuildOptions], BuiltModel]


@dataclass(frozen=True)
class ModelEntry:
    """A registered model: builder, one-line description and whether it takes pretrained weights."""

    name: str
    builder: Builder
    description: str
    pretrained: bool


_MODELS: dict[str, ModelEntry] = {}


def register_model(name: str, *, description: str, pretrained: bool = False) -> Callable[[Builder], Builder]:
    """Decorator registering ``builder`` under ``name``; a duplicate name is an error."""

    def decorate(builder: Builder) -> Builder:
        if name in _MODELS:
            raise ValueError(f"keras model {name!r} is already registered")
        _MODELS[name] = ModelEntry(name, builder, description, pretrained)
        return builder

    return decorate


def get_model_entry(name: str) -> ModelEntry:
    """The entry for ``name``; KeyError listing the known names otherwise."""
    if name not in _MODELS:
        twin = KERAS_PREFIX + name
        if twin in _MODELS:
            raise KeyError(
                f"keras model {name!r} is the torchvision layout, which the Keras runner does not build; "
                f"keras.applications' network is {twin!r}"
            )
        raise KeyError(f"unknown keras model {name!r}; known: {', '.join(sorted(_MODELS))}")
    return _MODELS[name]


def model_entries() -> dict[str, ModelEntry]:
    """Every registered model, by name."""
    return dict(_MODELS)


def build_model(
    spec: ModelSpec, input_shape: tuple[int, int, int], num_classes: int, options: BuildOptions | None = None
) -> BuiltModel:
    """Build ``spec.name`` for inputs of ``input_shape`` (H, W, C) and ``num_classes`` outputs."""
    return get_model_entry(spec.name).builder(spec, tuple(input_shape), num_classes, options or BuildOptions())

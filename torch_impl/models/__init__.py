"""The torch runner's models: the registry and factory, hand-written models and every torchvision classifier.

Mirrors ``keras_impl/models/`` module by module; imported in the worker and in child processes only.
"""

from __future__ import annotations

from pathlib import Path

from suite.architectures.catalog import architecture
from suite.architectures.weight_files import shared_weights_problems
from suite.spec.models import ModelSpec
from suite.store.weights_ref import run_weights_problem
from torch_impl.models import applications, keras_mbconv, keras_resnet, keras_vgg, simple  # noqa: F401  (fill the registry)
from torch_impl.models.applications import build_torchvision, torchvision_names
from torch_impl.models.keras_layout import register_keras_layout
from torch_impl.models.registry import BuiltModel, InputShape, register_model, registered_models
from torch_impl.models.weights import load_local_state_dict, load_matching, weights_kind

_RESNET_PREFIXES = ("resnet", "wide_resnet", "resnext")
_FAMILY_PREFIXES = (*_RESNET_PREFIXES, "mobilenet_v2", "mobilenet_v3", "efficientnet", "vgg")

register_keras_layout()

__all__ = [
    "BuiltModel",
    "InputShape",
    "build_model",
    "known_models",
    "model_problems",
    "register_model",
]


def known_models() -> dict[str, str]:
    """Every buildable model name with a one-line description."""
    models = {name: entry.description for name, entry in registered_models().items()}
    for name in torchvision_names():
        models.setdefault(name, "torchvision classifier (weights: none | imagenet | enum member | .pth file)")
    return models


def model_problems(spec: ModelSpec) -> list[str]:
    """Problems with a model spec that can be seen without building it."""
    entries = registered_models()
    if spec.name not in entries and spec.name not in torchvision_names():
        return [f"unknown model {spec.name!r} for backend torch; see `suite list` (mlp, simple_cnn, resnet18, ...)"]
    arch = architecture(spec.name)
    if arch is not None and arch.converts_weights:
        problems = shared_weights_problems(arch, spec)
        return problems + [problem] if (problem := run_weights_problem(spec.weights)) else problems
    problems = []
    if weights_kind(spec.weights) == "file" and not Path(spec.weights).expanduser().is_file():
        problems.append(f"model.weights {spec.weights!r} is neither none/imagenet/an enum member nor an existing file")
    if spec.name in entries and weights_kind(spec.weights) in ("imagenet", "enum"):
        problems.append(f"{spec.name} has no published weights; use weights = 'none' or a local .pth file")
    resnet_like = spec.name.startswith(_RESNET_PREFIXES)
    if spec.depth is not None and not resnet_like:
        problems.append(f"model.depth truncates ResNets only, not {spec.name}")
    if spec.depth is not None and spec.depth > 4:
        problems.append(f"model.depth must be 1..4 for a ResNet, got {spec.depth}")
    if spec.name in ("mlp", "simple_cnn") and (spec.head != "default" or spec.head_hidden):
        problems.append(f"{spec.name} has a fixed head: model.head and head_hidden do not apply")
    if spec.name in torchvision_names() and not spec.name.startswith(_FAMILY_PREFIXES) and spec.head != "default":
        problems.append(f"model.head = {spec.head!r} needs a resnet/mobilenet/efficientnet/vgg model, not {spec.name}")
    return problems


def build_model(spec: ModelSpec, input_shape: InputShape, num_classes: int) -> BuiltModel:
    """Build ``spec`` for ``input_shape`` (H, W, C) and ``num_classes``, with its starting weights."""
    entry = registered_models().get(spec.name)
    if entry is None:
        if spec.name not in torchvision_names():
            raise ValueError(f"unknown model {spec.name!r}")
        return build_torchvision(spec, input_shape, num_classes)
    built = entry.builder(spec, input_shape, num_classes)
    if not entry.loads_weights:
        kind = weights_kind(spec.weights)
        if kind in ("imagenet", "enum"):
            raise ValueError(f"{spec.name} has no published weights; use weights = 'none' or a local .pth file")
        if kind == "file":
            load_matching(built.module, load_local_state_dict(spec.weights), ("head.",))
    return built

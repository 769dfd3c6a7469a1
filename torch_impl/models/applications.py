"""Any torchvision classifier by name, taken apart into layer groups, with a head for the task."""

from __future__ import annotations

from collections import OrderedDict
from functools import lru_cache

import torchvision
from torch import nn
from torchvision.models import ResNet, get_model, list_models
from torchvision.models.resnet import BasicBlock

from suite.architectures.catalog import architecture
from suite.spec.models import ModelSpec
from torch_impl.models.families import find_decomposer, last_linear_name
from torch_impl.models.heads import classifier_layers, head_stages
from torch_impl.models.registry import BuiltModel, InputShape, register_model
from torch_impl.models.shared import load_shared_weights, neutral_keys
from torch_impl.models.weights import (
    fetch_state_dict,
    load_local_state_dict,
    load_matching,
    resolve_torchvision_weights,
    weights_kind,
)

_EXTRA_KWARGS = {"googlenet": {"aux_logits": False, "init_weights": True}, "inception_v3": {"aux_logits": False}}
RESNET_STAGES = ("layer1", "layer2", "layer3", "layer4")


@lru_cache(maxsize=1)
def torchvision_names() -> tuple[str, ...]:
    """Names of torchvision's image classification models."""
    return tuple(list_models(module=torchvision.models))


def build_torchvision(
    spec: ModelSpec, input_shape: InputShape, num_classes: int, network: nn.Module | None = None
) -> BuiltModel:
    """Build ``spec.name`` from torchvision (or take ``network``), load its weights, regroup it."""
    if network is None:
        network = get_model(spec.name, weights=None, **_EXTRA_KWARGS.get(spec.name, {}))
    if input_shape[2] != 3:
        raise ValueError(f"{spec.name} expects 3-channel images, got {input_shape[2]}; set dataset.channels = 3")
    shared = architecture(spec.name)
    if shared is not None and shared.converts_weights:
        built = _regroup(network, spec, input_shape, num_classes, None)
        built.neutral_keys = neutral_keys(built, network)
        load_shared_weights(built, shared, spec.weights)
        return built
    return _regroup(network, spec, input_shape, num_classes, _load_weights_or_defer(network, spec))


def _regroup(
    network: nn.Module, spec: ModelSpec, input_shape: InputShape, num_classes: int, own_checkpoint: dict | None
) -> BuiltModel:
    """The network as a staged sequence of its family's groups and a new head (or generic groups)."""
    decomposer = find_decomposer(network)
    if decomposer is None:
        if spec.depth is not None or spec.head != "default":
            raise ValueError(
                f"{spec.name}: model.depth and model.head are supported for resnet/mobilenet/efficientnet/vgg"
            )
        return _generic(network, spec, num_classes)
    parts = decomposer(network)
    body = _truncate(parts.body, spec, network)
    body_module = nn.Sequential(*body.values())
    stages = OrderedDict(body)
    stages.update(
        head_stages(spec, parts, body_module, input_shape, num_classes, truncated=len(body) < len(parts.body))
    )
    module = nn.Sequential(OrderedDict((name.replace(".", "_"), stage) for name, stage in stages.items()))
    if own_checkpoint is not None:
        load_matching(module, own_checkpoint, ("head.",))
    return BuiltModel(module, {name: [stage] for name, stage in stages.items()}, staged=True)


def load_weights(network: nn.Module, spec: ModelSpec) -> None:
    """Load ``spec.weights`` into the torchvision network as torchvision defines it (head mismatches skipped)."""
    kind = weights_kind(spec.weights)
    if kind == "none":
        return
    head = last_linear_name(network)
    head_prefixes = (head + ".",) if head else ()
    if kind == "file":
        load_matching(network, load_local_state_dict(spec.weights), head_prefixes)
        return
    enum_member = resolve_torchvision_weights(spec.name, spec.weights)
    load_matching(network, fetch_state_dict(enum_member), head_prefixes)


def _load_weights_or_defer(network: nn.Module, spec: ModelSpec) -> dict | None:
    """Load weights into torchvision's layout; a file in this suite's regrouped layout is returned for later."""
    try:
        load_weights(network, spec)
    except ValueError:
        if weights_kind(spec.weights) != "file":
            raise
        state = load_local_state_dict(spec.weights)
        if not any(key.startswith("head.") for key in state):
            raise
        return state  # a checkpoint written by this runner (keys like "layer1.0.conv1.weight", "head.0.weight")
    return None


def _truncate(body: OrderedDict[str, nn.Module], spec: ModelSpec, network: nn.Module) -> OrderedDict[str, nn.Module]:
    if spec.depth is None:
        return body
    if not isinstance(network, ResNet):
        raise ValueError(f"model.depth truncates ResNets only, not {spec.name}")
    if spec.depth > len(RESNET_STAGES):
        raise ValueError(f"model.depth must be 1..4 for a ResNet, got {spec.depth}")
    kept = ("stem", *RESNET_STAGES[: spec.depth])
    return OrderedDict((name, body[name]) for name in kept)


def _generic(network: nn.Module, spec: ModelSpec, num_classes: int) -> BuiltModel:
    head_name = last_linear_name(network)
    if head_name is None:
        raise ValueError(f"{spec.name} has no nn.Linear classifier to replace; not supported")
    parent_name, _, attribute = head_name.rpartition(".")
    parent = network.get_submodule(parent_name) if parent_name else network
    old: nn.Linear = getattr(parent, attribute)
    layers = classifier_layers(spec, old.in_features, num_classes)
    setattr(parent, attribute, layers[0] if len(layers) == 1 else nn.Sequential(*layers))
    children = [(name, child) for name, child in network.named_children() if any(True for _ in child.parameters())]
    head_child = head_name.split(".")[0]
    if children[-1][0] != head_child:
        raise ValueError(f"{spec.name}: its classifier {head_name} is not in the last top-level block; not supported")
    groups = {name: [child] for name, child in children[:-1]}
    groups["head"] = [children[-1][1]]
    return BuiltModel(network, groups, staged=False)


@register_model(
    "resnet10", description="torchvision ResNet(BasicBlock, [1, 1, 1, 1]); no published weights", loads_weights=True
)
def build_resnet10(spec: ModelSpec, input_shape: InputShape, num_classes: int) -> BuiltModel:
    """A one-block-per-stage ResNet built from torchvision's classes (seed 001's depth study)."""
    if weights_kind(spec.weights) in ("imagenet", "enum"):
        raise ValueError("resnet10 has no published weights; use weights = 'none' or a local file")
    return build_torchvision(spec, input_shape, num_classes, network=ResNet(BasicBlock, [1, 1, 1, 1]))

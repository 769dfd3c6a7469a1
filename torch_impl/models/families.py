"""How each torchvision family splits into layer groups, written as a table of small decomposers.

A decomposer turns a torchvision network into its body (feature groups in forward order), the
pooling its own classifier expects, and the classifier layers before the final Linear. The
head is then rebuilt for the task by :mod:`torch_impl.models.heads`.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from torch import nn
from torchvision.models import VGG, EfficientNet, MobileNetV2, MobileNetV3, ResNet


@dataclass
class Decomposed:
    """A torchvision network taken apart at its layer-group boundaries."""

    body: OrderedDict[str, nn.Module]
    pool: nn.Module
    pre_head: list[nn.Module]
    head_in_features: int


def _last_linear(sequence: nn.Sequential) -> nn.Linear:
    layer = sequence[-1]
    if not isinstance(layer, nn.Linear):
        raise TypeError(f"expected the classifier to end with nn.Linear, got {type(layer).__name__}")
    return layer


def _resnet(model: ResNet) -> Decomposed:
    body: OrderedDict[str, nn.Module] = OrderedDict(
        stem=nn.Sequential(model.conv1, model.bn1, model.relu, model.maxpool)
    )
    for name in ("layer1", "layer2", "layer3", "layer4"):
        body[name] = getattr(model, name)
    return Decomposed(body, model.avgpool, [], model.fc.in_features)


def _features_blocks(model: MobileNetV2 | MobileNetV3 | EfficientNet, pool: nn.Module) -> Decomposed:
    body = OrderedDict((f"features.{index}", block) for index, block in enumerate(model.features))
    classifier = model.classifier
    return Decomposed(body, pool, list(classifier[:-1]), _last_linear(classifier).in_features)


def _mobilenet_v2(model: MobileNetV2) -> Decomposed:
    return _features_blocks(model, nn.AdaptiveAvgPool2d(1))  # torchvision pools functionally in forward()


def _pooled_features(model: MobileNetV3 | EfficientNet) -> Decomposed:
    return _features_blocks(model, model.avgpool)


def _vgg(model: VGG) -> Decomposed:
    body: OrderedDict[str, nn.Module] = OrderedDict()
    current: list[nn.Module] = []
    for layer in model.features:
        current.append(layer)
        if isinstance(layer, nn.MaxPool2d):
            body[f"block{len(body) + 1}"] = nn.Sequential(*current)
            current = []
    if current:
        body[f"block{len(body) + 1}"] = nn.Sequential(*current)
    classifier = model.classifier
    return Decomposed(body, model.avgpool, list(classifier[:-1]), _last_linear(classifier).in_features)


FAMILIES: dict[type[nn.Module], Callable[[nn.Module], Decomposed]] = {
    ResNet: _resnet,
    MobileNetV2: _mobilenet_v2,
    MobileNetV3: _pooled_features,
    EfficientNet: _pooled_features,
    VGG: _vgg,
}


def find_decomposer(model: nn.Module) -> Callable[[nn.Module], Decomposed] | None:
    """The table entry for ``model``'s family, or None for models handled generically."""
    for family, decomposer in FAMILIES.items():
        if isinstance(model, family):
            return decomposer
    return None


def last_linear_name(model: nn.Module) -> str | None:
    """Qualified name of the last ``nn.Linear`` in registration order (the classifier of most models)."""
    names = [name for name, module in model.named_modules() if isinstance(module, nn.Linear)]
    return names[-1] if names else None

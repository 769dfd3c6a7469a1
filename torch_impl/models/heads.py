"""Classifier heads rebuilt for the task: ``default`` (the family's own), ``gap`` or ``flatten``."""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from suite.spec.models import ModelSpec
from torch_impl.models.families import Decomposed
from torch_impl.models.registry import InputShape


def classifier_layers(spec: ModelSpec, in_features: int, num_classes: int) -> list[nn.Module]:
    """``head_hidden`` Linear+ReLU(+Dropout) layers, then the final Linear to ``num_classes``."""
    layers: list[nn.Module] = []
    for index, width in enumerate(spec.head_hidden):
        layers += [nn.Linear(in_features, width), nn.ReLU()]
        if spec.head_dropout and spec.head_dropout[index] > 0:
            layers.append(nn.Dropout(spec.head_dropout[index]))
        in_features = width
    layers.append(nn.Linear(in_features, num_classes))
    return layers


@torch.no_grad()
def feature_shape(body: nn.Module, input_shape: InputShape) -> tuple[int, ...]:
    """Shape (C, H, W) of ``body``'s output for one image of ``input_shape`` (H, W, C)."""
    height, width, channels = input_shape
    was_training = body.training
    body.eval()
    try:
        output = body(torch.zeros(1, channels, height, width))
    finally:
        body.train(was_training)
    return tuple(output.shape[1:])


def head_stages(
    spec: ModelSpec, parts: Decomposed, body: nn.Module, input_shape: InputShape, num_classes: int, truncated: bool
) -> OrderedDict[str, nn.Module]:
    """Stages after the body: an optional ``classifier`` group (pretrained hidden layers) and ``head``."""
    if spec.head == "flatten":
        channels, height, width = feature_shape(body, input_shape)
        return OrderedDict(
            head=nn.Sequential(nn.Flatten(), *classifier_layers(spec, channels * height * width, num_classes))
        )
    if spec.head == "gap" or truncated:
        channels = feature_shape(body, input_shape)[0]
        pool = nn.AdaptiveAvgPool2d(1)
        return OrderedDict(head=nn.Sequential(pool, nn.Flatten(), *classifier_layers(spec, channels, num_classes)))
    stages: OrderedDict[str, nn.Module] = OrderedDict()
    lead = [parts.pool, nn.Flatten(), *parts.pre_head]
    if any(True for layer in parts.pre_head for _ in layer.parameters()):
        stages["classifier"] = nn.Sequential(*lead)
        lead = []
    stages["head"] = nn.Sequential(*lead, *classifier_layers(spec, parts.head_in_features, num_classes))
    return stages

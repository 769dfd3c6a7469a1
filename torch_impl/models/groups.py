"""Layer groups of a built model: their parameters and the layers whose behaviour depends on the mode."""

from __future__ import annotations

from collections.abc import Iterator

from torch import nn

from suite.runners.protocol import GroupFacts
from torch_impl.models.registry import BuiltModel


def group_layers(built: BuiltModel, name: str) -> Iterator[nn.Module]:
    """Every module of group ``name`` (its top modules and all their descendants)."""
    for module in built.groups[name]:
        yield from module.modules()


def group_parameters(built: BuiltModel, name: str) -> list[nn.Parameter]:
    """The learnable parameters of group ``name``."""
    return [parameter for module in built.groups[name] for parameter in module.parameters()]


def is_batchnorm(layer: nn.Module) -> bool:
    """True for BatchNorm layers of any dimension."""
    return isinstance(layer, nn.modules.batchnorm._BatchNorm)


def is_active_dropout(layer: nn.Module) -> bool:
    """True for dropout that changes its input in training mode (rate > 0), stochastic depth (timm's DropPath) too."""
    if isinstance(layer, nn.modules.dropout._DropoutNd):
        return layer.p > 0
    return getattr(layer, "drop_prob", 0.0) > 0


def group_facts(built: BuiltModel) -> list[GroupFacts]:
    """Size and mode-dependent layers of each group, input to output."""
    facts = []
    for name in built.groups:
        layers = list(group_layers(built, name))
        facts.append(
            GroupFacts(
                name=name,
                params=sum(parameter.numel() for parameter in group_parameters(built, name)),
                has_batchnorm=any(is_batchnorm(layer) for layer in layers),
                has_dropout=any(is_active_dropout(layer) for layer in layers),
            )
        )
    return facts

"""Named transfer-learning operations on a BuiltModel: which groups train, BatchNorm mode and settings.

``keras_impl.freezing`` is the same job for Keras.
"""

from __future__ import annotations

from collections.abc import Iterable

from torch import nn

from suite.plan.peft import PeftPlan
from suite.runners.protocol import TrainableSet
from torch_impl.models import BuiltModel
from torch_impl.models.groups import group_layers, group_parameters, is_batchnorm
from torch_impl.peft import apply_peft_trainable


def apply_trainable(built: BuiltModel, trainable: TrainableSet, peft: PeftPlan | None = None) -> None:
    """Parameters of ``trainable.groups`` train, every other group is frozen; then the plan's ``peft`` applies.

    Unfreezing the last N framework layers (``trainable.last_layers``) is Keras-only: torch unfreezes groups.
    """
    if trainable.last_layers is not None:
        raise ValueError("unfreezing the last N framework layers is Keras-only; torch unfreezes layer groups")
    set_requires_grad(built, trainable.groups)
    apply_peft_trainable(built, peft)  # the plan's train_only / LoRA parameters inside frozen groups


def set_requires_grad(built: BuiltModel, trainable: Iterable[str]) -> None:
    """Parameters of the groups in ``trainable`` train; every other group is frozen."""
    chosen = set(trainable)
    for name in built.groups:
        for parameter in group_parameters(built, name):
            parameter.requires_grad_(name in chosen)


def set_train_mode(built: BuiltModel, trainable: Iterable[str], frozen_bn_inference: bool) -> None:
    """``train()`` the network; with ``frozen_bn_inference`` BatchNorm of frozen groups runs in inference mode."""
    built.module.train()
    if not frozen_bn_inference:
        return
    chosen = set(trainable)
    for name in built.groups:
        if name in chosen:
            continue
        for layer in group_layers(built, name):
            if is_batchnorm(layer):
                layer.eval()


def configure_batchnorm(module: nn.Module, momentum: float, epsilon: float) -> None:
    """Every BatchNorm layer uses ``momentum`` (weight of the new batch, torch's convention) and ``epsilon``."""
    for layer in module.modules():
        if is_batchnorm(layer):
            layer.momentum, layer.eps = momentum, epsilon

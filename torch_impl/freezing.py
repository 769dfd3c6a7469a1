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

    Then the last ``trainable.last_layers`` layers of a keras-layout twin's Keras base train too (Keras'
    ``base.layers[-N:]``, weightless layers counted); other models unfreeze groups only.
    """
    set_requires_grad(built, trainable.groups)
    for layer in last_layers(built, trainable.last_layers):
        layer.requires_grad_(True)
    apply_peft_trainable(built, peft)  # the plan's train_only / LoRA parameters inside frozen groups


def set_requires_grad(built: BuiltModel, trainable: Iterable[str]) -> None:
    """Parameters of the groups in ``trainable`` train; every other group is frozen."""
    chosen = set(trainable)
    for name in built.groups:
        for parameter in group_parameters(built, name):
            parameter.requires_grad_(name in chosen)


def last_layers(built: BuiltModel, count: int | None) -> list[nn.Module]:
    """The modules of the last ``count`` Keras base layers of a keras-layout twin (none for ``None``)."""
    if count is None:
        return []
    if not built.keras_layers:
        raise ValueError("unfreezing the last N framework layers needs a keras-layout model (keras_<name>)")
    return [module for _, module in built.keras_layers[-count:] if module is not None]


def set_train_mode(
    built: BuiltModel, trainable: Iterable[str], frozen_bn_inference: bool, last: int | None = None
) -> None:
    """``train()`` the network; with ``frozen_bn_inference`` BatchNorm of frozen groups runs in inference mode.

    BatchNorm among the ``last`` Keras layers a fine-tune unfreezes trains, as a trainable Keras layer does.
    """
    built.module.train()
    if not frozen_bn_inference:
        return
    chosen = set(trainable)
    training = {id(layer) for module in last_layers(built, last) for layer in module.modules()}
    for name in built.groups:
        if name in chosen:
            continue
        for layer in group_layers(built, name):
            if is_batchnorm(layer) and id(layer) not in training:
                layer.eval()


def configure_batchnorm(module: nn.Module, momentum: float, epsilon: float) -> None:
    """Every BatchNorm layer uses ``momentum`` (weight of the new batch, torch's convention) and ``epsilon``."""
    for layer in module.modules():
        if is_batchnorm(layer):
            layer.momentum, layer.eps = momentum, epsilon

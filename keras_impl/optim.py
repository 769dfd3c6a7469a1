"""Optimizers with the torch runner's semantics.

adam / sgd ``weight_decay`` is an L2 term added to the gradient (torch.optim.Adam / SGD), not Keras'
decoupled decay; adamw ``weight_decay`` is decoupled in both frameworks. ``grad_clip`` clips the global
gradient norm before the L2 term is added, as ``clip_grad_norm_`` before ``optimizer.step()`` does.
"""

from __future__ import annotations

from typing import Any

import keras

from suite.spec.models import OptimizerSpec


class _CoupledL2:
    """Mixin adding ``l2 * variable`` to each (already clipped) gradient before the update step."""

    def __init__(self, *args: Any, l2: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.l2 = l2

    def _backend_update_step(self, grads: list, trainable_variables: list, learning_rate: Any) -> Any:
        grads = [
            grad + keras.ops.cast(self.l2, grad.dtype) * keras.ops.cast(variable, grad.dtype)
            for grad, variable in zip(grads, trainable_variables, strict=True)
        ]
        return super()._backend_update_step(grads, trainable_variables, learning_rate)


class CoupledL2Adam(_CoupledL2, keras.optimizers.Adam):
    """Adam with torch-style (L2, coupled) weight decay."""


class CoupledL2SGD(_CoupledL2, keras.optimizers.SGD):
    """SGD with torch-style (L2, coupled) weight decay."""


def make_optimizer(spec: OptimizerSpec, lr: float, grad_clip: float | None) -> Any:
    """Keras optimizer for ``spec`` at learning rate ``lr`` (phase 2 of fine-tuning passes its own)."""
    common: dict[str, Any] = {"learning_rate": lr, "global_clipnorm": grad_clip}
    if spec.name == "adamw":
        return keras.optimizers.AdamW(weight_decay=spec.weight_decay, **common)
    if spec.name == "adam":
        if spec.weight_decay:
            return CoupledL2Adam(l2=spec.weight_decay, **common)
        return keras.optimizers.Adam(**common)
    sgd_args = {"momentum": spec.momentum, "nesterov": spec.nesterov, **common}
    if spec.weight_decay:
        return CoupledL2SGD(l2=spec.weight_decay, **sgd_args)
    return keras.optimizers.SGD(**sgd_args)

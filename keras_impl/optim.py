"""One Keras optimizer with torch.optim's semantics and one learning rate per layer group.

Keras 3 optimizers take one learning rate for every variable; :class:`GroupOptimizer` keeps one LR variable
per group (optimizer state, so JAX's stateless training step reads it and ``set_rates`` needs no retrace)
and applies, in ``keras.ops`` (TensorFlow, JAX and torch engines alike):

- ``adam``: torch.optim.Adam. ``weight_decay`` is L2 added to the gradient; ``denom = sqrt(v) /
  sqrt(1 - b2**t) + eps``, ``p -= lr / (1 - b1**t) * m / denom``.
- ``adamw``: torch.optim.AdamW. ``p *= 1 - lr * weight_decay`` with the variable's group LR, then the Adam step.
- ``sgd``: torch.optim.SGD. ``g += weight_decay * p``; momentum buffer ``b = mu * b + g`` (first step
  ``b = g``); ``g = g + mu * b`` with nesterov, else ``b``; ``p -= lr * g``.

The step count ``t`` is kept per variable, as torch keeps it per parameter: a group unfrozen later starts its
bias correction at 1. ``grad_clip`` scales the gradients by torch's ``clip_grad_norm_`` rule (global norm,
``max_norm / (norm + 1e-6)`` capped at 1) before the L2 term is added.
"""

from __future__ import annotations

import re
from typing import Any

import keras
from keras import ops

from suite.plan.sections import OptimizerPlan

_SLOTS = {"adam": ("m", "v"), "adamw": ("m", "v"), "sgd": ("momentum",)}


class GroupOptimizer(keras.optimizers.Optimizer):
    """torch-style Adam / AdamW / SGD with per-group learning rates and per-variable step counts.

    ``plan`` is the plan's optimizer (its ``grad_clip`` included); ``group_of`` maps a model variable's
    ``path`` to its layer group; ``groups`` lists every group (each gets an LR variable, 0 until
    :meth:`set_rates`).
    """

    def __init__(self, plan: OptimizerPlan, groups: list[str], group_of: dict[str, str]) -> None:
        super().__init__(learning_rate=0.0, name=f"torch_{plan.name}")
        self.kind = plan.name
        self.decay = plan.weight_decay
        self.mu = plan.momentum
        self.nesterov = plan.nesterov
        self.eps = plan.epsilon
        self.betas = plan.betas
        self.grad_clip = plan.grad_clip
        self.groups = list(groups)
        self.group_of = dict(group_of)

    def build(self, variables: list[Any]) -> None:
        """LR variables per group; per model variable a step count and the algorithm's slots."""
        if self.built:
            return
        super().build(variables)
        self.rates = {group: self.add_variable((), name=f"lr_{_safe(group)}") for group in self.groups}
        self.steps = [self.add_variable((), name=f"{_safe(v.path)}_step") for v in variables]
        self.slots = {
            slot: [self.add_variable_from_reference(v, name=slot) for v in variables] for slot in self.slot_names
        }
        self.variable_groups = [self.group_of[v.path] for v in variables]

    @property
    def slot_names(self) -> tuple[str, ...]:
        """Per-variable state besides the step count (none for plain SGD)."""
        return () if self.kind == "sgd" and not self.mu else _SLOTS[self.kind]

    def set_rates(self, rates: dict[str, float]) -> None:
        """Assign every group's learning rate (groups not named keep theirs)."""
        for group, rate in rates.items():
            self.rates[group].assign(float(rate))

    def _clip_gradients(self, grads: list[Any]) -> list[Any]:
        if not self.grad_clip:
            return grads
        norm = ops.sqrt(sum(ops.sum(ops.square(grad)) for grad in grads if grad is not None))
        scale = ops.minimum(self.grad_clip / (norm + 1e-6), 1.0)
        return [grad if grad is None else grad * ops.cast(scale, grad.dtype) for grad in grads]

    def _backend_update_step(self, grads: list[Any], trainable_variables: list[Any], learning_rate: Any) -> None:
        """Every variable's :meth:`update_step`; on the torch engine the same arithmetic in place, bit for bit.

        Written in ``keras.ops``, the update allocates a tensor for every intermediate and writes it back with an
        ``assign``; on the torch engine that cost more than a small network's whole step (+12% on simple_cnn's
        step against Keras's own Adam). :func:`_update_in_place` runs one IEEE operation in place for each of the
        formula's, in the same order on the same values, so the weights are bit for bit the same
        (``tests/keras_impl/test_optim.py``). No fused operation (``add_`` with ``alpha``, ``addcdiv_``) is used:
        a fused multiply-add rounds once where the formula rounds twice.
        """
        if keras.backend.backend() != "torch":
            super()._backend_update_step(grads, trainable_variables, learning_rate)
            return
        import torch

        with torch.no_grad():
            for gradient, variable in zip(grads, trainable_variables, strict=True):
                _update_in_place(self, gradient, variable)

    def update_step(self, gradient: Any, variable: Any, learning_rate: Any) -> None:
        """One torch-style update of ``variable`` with its group's LR (``learning_rate`` is unused)."""
        index = self._get_variable_index(variable)
        dtype = variable.dtype
        lr = ops.cast(self.rates[self.variable_groups[index]], dtype)
        step = ops.add(self.steps[index], 1.0)
        self.assign(self.steps[index], step)
        grad = ops.cast(gradient, dtype)
        if self.kind == "adamw" and self.decay:
            self.assign(variable, variable * (1.0 - lr * self.decay))
        elif self.decay:
            grad = grad + self.decay * variable
        if self.kind == "sgd":
            self._sgd(index, grad, variable, lr)
        else:
            self._adam(index, grad, variable, lr, ops.cast(step, dtype))

    def _adam(self, index: int, grad: Any, variable: Any, lr: Any, step: Any) -> None:
        beta_1, beta_2 = self.betas
        m, v = self.slots["m"][index], self.slots["v"][index]
        self.assign(m, m * beta_1 + grad * (1.0 - beta_1))
        self.assign(v, v * beta_2 + ops.square(grad) * (1.0 - beta_2))
        denom = ops.sqrt(v) / ops.sqrt(1.0 - ops.power(beta_2, step)) + self.eps
        self.assign_sub(variable, (lr / (1.0 - ops.power(beta_1, step))) * m / denom)

    def _sgd(self, index: int, grad: Any, variable: Any, lr: Any) -> None:
        if self.mu:
            buffer = self.slots["momentum"][index]
            self.assign(buffer, buffer * self.mu + grad)  # starts at 0, so the first step gives b = g
            grad = grad + buffer * self.mu if self.nesterov else buffer
        self.assign_sub(variable, lr * grad)

    def state_by_path(self) -> dict[str, dict[str, Any]]:
        """Per model-variable path: its step count and slots, as numpy (for :meth:`load_state`)."""
        state = {}
        for index, variable in enumerate(self._trainable_variables):
            values = {"step": self.steps[index]} | {name: self.slots[name][index] for name in self.slot_names}
            state[variable.path] = {name: ops.convert_to_numpy(value) for name, value in values.items()}
        return state

    def load_state(self, state: dict[str, dict[str, Any]], rates: dict[str, Any]) -> int:
        """Take over the state of variables that were training already (by path) and the LRs; returns how many."""
        kept = 0
        for index, variable in enumerate(self._trainable_variables):
            old = state.get(variable.path)
            if old is None:
                continue  # newly trainable: starts fresh, as a parameter torch sees for the first time
            self.steps[index].assign(old["step"])
            for name in self.slot_names:
                self.slots[name][index].assign(old[name])
            kept += 1
        self.set_rates(rates)
        return kept

    def current_rates(self) -> dict[str, float]:
        """Every group's learning rate as a Python float."""
        return {group: float(ops.convert_to_numpy(variable)) for group, variable in self.rates.items()}


def build_optimizer(
    plan: OptimizerPlan,
    groups: list[str],
    group_of: dict[str, str],
    variables: list[Any],
    rates: dict[str, float],
    state: dict[str, dict[str, Any]] | None = None,
) -> GroupOptimizer:
    """A :class:`GroupOptimizer` over ``variables`` at ``rates``; variables named in ``state`` keep theirs."""
    optimizer = GroupOptimizer(plan, groups, group_of)
    optimizer.build(variables)
    optimizer.load_state(state or {}, rates)
    return optimizer


def _update_in_place(optimizer: Any, gradient: Any, variable: Any) -> None:
    """:meth:`GroupOptimizer.update_step` on the torch engine, in place (see ``_backend_update_step``)."""
    index = optimizer._get_variable_index(variable)
    weights = variable.value
    dtype = weights.dtype
    lr = optimizer.rates[optimizer.variable_groups[index]].value.to(dtype)
    step = optimizer.steps[index].value
    step.add_(1.0)
    grad = gradient.to(dtype)
    if optimizer.kind == "adamw" and optimizer.decay:
        weights.mul_(1.0 - lr * optimizer.decay)
    elif optimizer.decay:
        grad = grad + weights * optimizer.decay
    if optimizer.kind == "sgd":
        _sgd_in_place(optimizer, index, grad, weights, lr)
    else:
        _adam_in_place(optimizer, index, grad, weights, lr, step.to(dtype))


def _adam_in_place(optimizer: Any, index: int, grad: Any, weights: Any, lr: Any, step: Any) -> None:
    import torch

    betas = beta_1, beta_2 = optimizer.betas
    first, second = optimizer.slots["m"][index].value, optimizer.slots["v"][index].value
    first.mul_(beta_1).add_(grad * (1.0 - beta_1))
    second.mul_(beta_2).add_(torch.square(grad).mul_(1.0 - beta_2))
    power_1, power_2 = (torch.pow(torch.tensor(beta, dtype=step.dtype, device=step.device), step) for beta in betas)
    denominator = torch.sqrt(second).div_(torch.sqrt(1.0 - power_2)).add_(optimizer.eps)
    weights.sub_(((lr / (1.0 - power_1)) * first).div_(denominator))


def _sgd_in_place(optimizer: Any, index: int, grad: Any, weights: Any, lr: Any) -> None:
    if optimizer.mu:
        buffer = optimizer.slots["momentum"][index].value
        buffer.mul_(optimizer.mu).add_(grad)
        grad = grad + buffer * optimizer.mu if optimizer.nesterov else buffer
    weights.sub_(lr * grad)


def _safe(name: str) -> str:
    return re.sub(r"[^0-9A-Za-z_]", "_", name)

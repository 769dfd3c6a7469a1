"""Optimizer with one parameter group per layer group, each at its own learning rate (the plan's rates)."""

from __future__ import annotations

from typing import Any

import torch
from torch.optim import SGD, Adam, AdamW, Optimizer

from suite.plan.sections import OptimizerPlan
from torch_impl.models import BuiltModel
from torch_impl.models.groups import group_parameters


def build_optimizer(plan: OptimizerPlan, built: BuiltModel, rates: dict[str, float]) -> Optimizer:
    """One param group per layer group, frozen ones included (they get no gradient, so they do not move).

    Holding every parameter from the start lets gradual unfreezing work by toggling ``requires_grad``:
    a newly unfrozen group starts its optimizer state on its first step, groups already training keep theirs.
    """
    param_groups: list[dict[str, Any]] = []
    for name in built.groups:
        params = group_parameters(built, name)
        if params:
            param_groups.append({"params": params, "lr": rates[name], "name": name})
    default_lr = param_groups[-1]["lr"]
    if plan.name == "sgd":
        return SGD(
            param_groups, lr=default_lr, momentum=plan.momentum, nesterov=plan.nesterov, weight_decay=plan.weight_decay
        )
    optimizer_class = AdamW if plan.name == "adamw" else Adam
    return optimizer_class(
        param_groups, lr=default_lr, betas=plan.betas, eps=plan.epsilon, weight_decay=plan.weight_decay
    )


def set_learning_rates(optimizer: Optimizer, rates: dict[str, float]) -> None:
    """Set each param group's learning rate from ``rates`` (keyed by layer-group name)."""
    for group in optimizer.param_groups:
        group["lr"] = rates[group["name"]]


def learning_rates(optimizer: Optimizer) -> dict[str, float]:
    """Each param group's current learning rate, keyed by layer-group name."""
    return {group["name"]: float(group["lr"]) for group in optimizer.param_groups}


def optimizer_state_steps(optimizer: Optimizer) -> dict[str, int]:
    """Per param group, how many steps its first parameter's state has taken (0 = never updated)."""
    steps = {}
    for group in optimizer.param_groups:
        state = optimizer.state.get(group["params"][0], {})
        step = state.get("step", 0)
        steps[group["name"]] = int(step.item() if isinstance(step, torch.Tensor) else step)
    return steps

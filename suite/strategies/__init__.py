"""Fine-tuning strategies, one declaration each: spec keys, validation, plan contribution, label, reference class.

Owns the declaration type and its registry (:mod:`~suite.strategies.declaration`), the built-in strategies
(:mod:`~suite.strategies.catalog`: freeze levels, BatchNorm policy, BitFit / norm-only, LoRA, discriminative LR,
gradual unfreezing, two-phase fine-tune) and the spec section built from them
(:mod:`~suite.strategies.spec_model`). Pure Python, imported in every process; may import ``suite.spec.types``
and ``suite.architectures`` only (``suite.spec.models`` imports this package to build ``StrategySpec``).
"""

from __future__ import annotations

from typing import Any

from suite.strategies import catalog  # noqa: F401 - declares the built-in strategies
from suite.strategies.declaration import (
    PlanContext,
    PlanContribution,
    ReferenceClass,
    SecondPhase,
    StrategyDeclaration,
    active_declarations,
    declarations,
    declare_strategy,
)


def strategy_label(strategy: Any) -> str:
    """Short human label of a validated strategy section, e.g. ``freeze=all_but_head,lora_r=8``."""
    parts = [declaration.label(strategy) for declaration in active_declarations(strategy)]
    return ",".join(part for part in parts if part)


def reference_class(strategy: Any) -> ReferenceClass:
    """``probe`` (linear probe), ``full`` (full fine-tune at one LR) or ``other``, from the declarations."""
    active = active_declarations(strategy)
    deciding = [declaration.reference(strategy) for declaration in active if declaration.reference is not None]
    base = deciding[0] if deciding else "other"
    breaks = [declaration for declaration in active if declaration.reference is None and base not in declaration.keeps]
    return "other" if base == "other" or breaks else base


def plan_contributions(strategy: Any, names: list[str], epochs: int) -> list[PlanContribution]:
    """Every active strategy's part of the plan, the freeze level first (the others see its frozen groups)."""
    context = PlanContext(names=names, epochs=epochs)
    contributions: list[PlanContribution] = []
    for declaration in active_declarations(strategy):
        contribution = declaration.contribute(strategy, context)
        if contribution.frozen_at_start is not None:
            context = PlanContext(names=names, epochs=epochs, frozen_at_start=contribution.frozen_at_start)
        contributions.append(contribution)
    return contributions


__all__ = [
    "PlanContext",
    "PlanContribution",
    "ReferenceClass",
    "SecondPhase",
    "StrategyDeclaration",
    "active_declarations",
    "declarations",
    "declare_strategy",
    "plan_contributions",
    "reference_class",
    "strategy_label",
]

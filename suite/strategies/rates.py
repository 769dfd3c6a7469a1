"""Learning-rate strategies: discriminative (layer-wise) learning rates."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from suite.spec.types import Float, StrictModel
from suite.strategies.declaration import PlanContext, PlanContribution, StrategyDeclaration


class DiscriminativeLRSpec(StrictModel):
    """Head trains at optimizer.lr; each earlier group gets lr * lr_mult**distance."""

    lr_mult: Float = Field(gt=0, le=1)


def layer_multipliers(names: list[str], lr_mult: float) -> dict[str, float]:
    """The k-th group before the head gets ``lr_mult**k``; the head 1."""
    return {name: lr_mult ** (len(names) - 1 - index) for index, name in enumerate(names)}


def _contribution(strategy: Any, context: PlanContext) -> PlanContribution:
    return PlanContribution(lr_multipliers=layer_multipliers(context.names, strategy.discriminative_lr.lr_mult))


DISCRIMINATIVE_LR = StrategyDeclaration(
    name="discriminative_lr",
    summary="discriminative_lr = {lr_mult}: each group before the head at lr * lr_mult**distance",
    fields={"discriminative_lr": (DiscriminativeLRSpec | None, None)},
    contribute=_contribution,
    label=lambda strategy: f"disc_lr={strategy.discriminative_lr.lr_mult:g}",
    keeps=frozenset({"probe"}),
)

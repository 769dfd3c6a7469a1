"""Freezing strategies: the freeze level, the BatchNorm policy, gradual unfreezing and the two-phase fine-tune."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from suite.architectures.groups import initially_frozen, unfreeze_targets
from suite.spec.types import FIRST_EPOCH, MAX_EPOCHS, MAX_WIDTH, Epochs, Int, KeyInt, PositiveFloat, StrictModel
from suite.strategies.declaration import PlanContext, PlanContribution, ReferenceClass, SecondPhase, StrategyDeclaration


class FinetuneSpec(StrictModel):
    """Second phase of a two-phase recipe: unfreeze, lower the LR, train again."""

    epochs: Epochs
    lr: PositiveFloat
    unfreeze: Literal["all"] | list[str] | None = None
    unfreeze_last_layers: Int | None = Field(None, ge=1, le=MAX_WIDTH)

    @model_validator(mode="after")
    def _says_what_to_unfreeze(self) -> FinetuneSpec:
        if (self.unfreeze is None) == (self.unfreeze_last_layers is None):
            raise ValueError("give exactly one of unfreeze or unfreeze_last_layers")
        return self


def _check_one_way_to_freeze(strategy: Any) -> None:
    if strategy.freeze_blocks is not None and strategy.freeze != "none":
        raise ValueError("give freeze or freeze_blocks, not both")


def _freeze_label(strategy: Any) -> str:
    if strategy.freeze_blocks is not None:
        return f"freeze_blocks={strategy.freeze_blocks}"
    if isinstance(strategy.freeze, list):
        return f"freeze={'+'.join(strategy.freeze) or 'none'}"
    return f"freeze={strategy.freeze}"


def _freeze_reference(strategy: Any) -> ReferenceClass:
    if strategy.freeze == "all_but_head" and strategy.freeze_blocks is None:
        return "probe"
    if strategy.freeze == "none" and not strategy.freeze_blocks:
        return "full"
    return "other"


FREEZE_LEVEL = StrategyDeclaration(
    name="freeze",
    summary="freeze = none | all_but_head | [groups, 'last:N'], or freeze_blocks = N (the first N groups)",
    fields={
        "freeze": (Literal["none", "all_but_head"] | list[str], "none"),
        "freeze_blocks": (Int | None, Field(None, ge=0, le=MAX_WIDTH)),
    },
    contribute=lambda strategy, context: PlanContribution(frozen_at_start=initially_frozen(strategy, context.names)),
    label=_freeze_label,
    reference=_freeze_reference,
    check=_check_one_way_to_freeze,
    is_active=lambda strategy: True,
)

BATCHNORM_POLICY = StrategyDeclaration(
    name="bn_mode",
    summary="bn_mode = frozen | train: BatchNorm layers of frozen groups in inference mode, or updating statistics",
    fields={"bn_mode": (Literal["frozen", "train"], "frozen")},
    contribute=lambda strategy, context: PlanContribution(),
    label=lambda strategy: None,
    keeps=frozenset({"probe", "full"}),
    is_active=lambda strategy: True,
)


def _schedule_epochs_numbered_from_one(strategy: Any) -> None:
    if any(not FIRST_EPOCH <= epoch <= MAX_EPOCHS for epoch in strategy.unfreeze_schedule):
        raise ValueError(f"unfreeze_schedule epochs are numbered from {FIRST_EPOCH} (the first epoch) to {MAX_EPOCHS}")


def _schedule_contribution(strategy: Any, context: PlanContext) -> PlanContribution:
    # The spec numbers epochs as users read them (from 1); the plan counts them from 0 inside the process.
    schedule = {
        epoch - FIRST_EPOCH: unfreeze_targets(groups, context.names, f"strategy.unfreeze_schedule[{epoch}]")
        for epoch, groups in strategy.unfreeze_schedule.items()
    }
    late = sorted(epoch for epoch in strategy.unfreeze_schedule if epoch > context.epochs)
    notes = []
    if late:
        last = context.epochs
        notes.append(f"unfreeze_schedule epoch(s) {', '.join(map(str, late))} fall after the last epoch ({last})")
    return PlanContribution(unfreeze_at=schedule, notes=notes)


GRADUAL_UNFREEZING = StrategyDeclaration(
    name="unfreeze_schedule",
    summary="unfreeze_schedule = {epoch = [groups]}: unfreeze groups at the start of those epochs (from 1)",
    fields={"unfreeze_schedule": (dict[KeyInt, list[str]] | None, None)},
    contribute=_schedule_contribution,
    label=lambda strategy: "gradual_unfreeze" if strategy.unfreeze_schedule else None,
    check=_schedule_epochs_numbered_from_one,
)


def _finetune_contribution(strategy: Any, context: PlanContext) -> PlanContribution:
    finetune = strategy.finetune
    unfreeze = []
    if finetune.unfreeze is not None:
        unfreeze = unfreeze_targets(finetune.unfreeze, context.names, "strategy.finetune.unfreeze")
    return PlanContribution(
        second_phase=SecondPhase(finetune.epochs, finetune.lr, unfreeze, finetune.unfreeze_last_layers)
    )


def _finetune_label(strategy: Any) -> str:
    target = strategy.finetune.unfreeze_last_layers or strategy.finetune.unfreeze
    label = target if isinstance(target, (int, str)) else "+".join(target)
    return f"finetune={label}@{strategy.finetune.lr:g}"


TWO_PHASE_FINETUNE = StrategyDeclaration(
    name="finetune",
    summary="finetune = {epochs, lr, unfreeze | unfreeze_last_layers}: a second phase with its own optimizer",
    fields={"finetune": (FinetuneSpec | None, None)},
    contribute=_finetune_contribution,
    label=_finetune_label,
)

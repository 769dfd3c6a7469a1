"""Parameter-efficient strategies: BitFit and norm-only tuning (``train_only``) and LoRA (``lora``).

Both act inside the groups the freeze level leaves frozen, so they need a freeze level and no later
unfreezing. The plan's ``peft`` section (:mod:`suite.plan.peft` documents its convention) is the sum of
their contributions.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from suite.architectures.groups import HEAD_GROUP, expand_group_names
from suite.architectures.parity_notes import DEPTHWISE_LORA
from suite.spec.types import MAX_WIDTH, Float, Int, PositiveFloat, StrictModel
from suite.strategies.declaration import PlanContext, PlanContribution, StrategyDeclaration

LORA_KINDS = ("conv", "linear")
"""Layer kinds ``strategy.lora.targets`` may name (any other entry is a layer-group name)."""


class LoraSpec(StrictModel):
    """Low-rank adapters on the frozen groups' convolutions and linear layers (see :mod:`suite.plan.peft`).

    ``targets``: layer kinds (``"conv"``, ``"linear"``) or layer-group names (``"last:N"`` allowed), not both.
    The update is ``(alpha / rank) * A @ B`` with A He-uniform and B zeros, in every backend.
    """

    rank: Int = Field(8, ge=1, le=MAX_WIDTH)
    alpha: PositiveFloat = 16.0
    dropout: Float = Field(0.0, ge=0, lt=1)
    targets: list[str] = Field(default_factory=lambda: list(LORA_KINDS), min_length=1)

    @model_validator(mode="after")
    def _kinds_or_groups(self) -> LoraSpec:
        kinds = [target for target in self.targets if target in LORA_KINDS]
        if kinds and len(kinds) != len(self.targets):
            raise ValueError(f"targets: give layer kinds ({', '.join(LORA_KINDS)}) or group names, not both")
        if len(set(self.targets)) != len(self.targets):
            raise ValueError("targets: duplicate entries")
        return self


def _check_on_a_fixed_freeze(key: str) -> Any:
    def check(strategy: Any) -> None:
        if key == "train_only" and len(set(strategy.train_only)) != len(strategy.train_only):
            raise ValueError("train_only: duplicate entries")
        if strategy.freeze == "none" and not strategy.freeze_blocks:
            raise ValueError(f"{key} acts on frozen groups: set freeze or freeze_blocks")
        if strategy.unfreeze_schedule or strategy.finetune is not None:
            raise ValueError(f"{key} cannot be combined with unfreeze_schedule or finetune")

    return check


def _frozen_body(context: PlanContext) -> list[str]:
    return [name for name in context.frozen_at_start if name != HEAD_GROUP]


def _train_only_contribution(strategy: Any, context: PlanContext) -> PlanContribution:
    body = _frozen_body(context)
    return PlanContribution(
        peft={"train_only": sorted(strategy.train_only), "train_only_groups": body, "touched_groups": body}
    )


def lora_plan(lora: LoraSpec, names: list[str], frozen: list[str]) -> dict[str, Any]:
    """The plan's ``peft.lora`` fields (its initialisers are the plan's ``LoraInit``): rank, scaling, groups."""
    if all(target in LORA_KINDS for target in lora.targets):
        kinds, groups = sorted(lora.targets), list(frozen)
    else:
        kinds, groups = list(LORA_KINDS), expand_group_names(lora.targets, names, "strategy.lora.targets")
        thawed = [name for name in groups if name not in frozen]
        if thawed:
            raise ValueError(f"strategy.lora.targets: LoRA adapts frozen groups only; {', '.join(thawed)} train fully")
    return {
        "rank": lora.rank,
        "alpha": lora.alpha,
        "scaling": lora.alpha / lora.rank,
        "dropout": lora.dropout,
        "kinds": kinds,
        "groups": groups,
        "depthwise": DEPTHWISE_LORA,
        "merge_for_test": True,
    }


def _lora_contribution(strategy: Any, context: PlanContext) -> PlanContribution:
    plan = lora_plan(strategy.lora, context.names, _frozen_body(context))
    return PlanContribution(peft={"lora": plan, "touched_groups": plan["groups"]})


def lora_param_count(rank: int, fan_in: int, fan_out: int) -> int:
    """Adapter size of one layer: ``rank * (fan_in + fan_out)`` (``fan_in = c_in * k * k`` for a convolution)."""
    return rank * (fan_in + fan_out)


TRAIN_ONLY = StrategyDeclaration(
    name="train_only",
    summary="train_only = ['bias'] (BitFit) and/or ['norm']: inside frozen groups train only these parameters",
    fields={"train_only": (list[Literal["bias", "norm"]] | None, Field(None, min_length=1))},
    contribute=_train_only_contribution,
    label=lambda strategy: f"train_only={'+'.join(strategy.train_only)}",
    check=_check_on_a_fixed_freeze("train_only"),
    peft=True,
)

LORA = StrategyDeclaration(
    name="lora",
    summary="lora = {rank, alpha, dropout, targets}: low-rank adapters on the frozen groups' conv/linear layers",
    fields={"lora": (LoraSpec | None, None)},
    contribute=_lora_contribution,
    label=lambda strategy: f"lora_r={strategy.lora.rank}",
    check=_check_on_a_fixed_freeze("lora"),
    peft=True,
)

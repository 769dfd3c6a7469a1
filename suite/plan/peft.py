"""Parameter-efficient fine-tuning in the neutral plan: BitFit, norm-only tuning and LoRA, one convention.

The plan's ``peft`` entry (:class:`PeftPlan`, in ``plan.json``; None without PEFT) tells every runner the same thing:

- ``train_only``: inside the frozen groups, train only ``"bias"`` parameters (the additive bias of every
  convolution and linear layer, and the shift ``beta`` of every normalisation layer: BitFit) and/or ``"norm"``
  parameters (scale and shift of every BatchNorm/LayerNorm/GroupNorm layer). A normalisation layer with a
  training parameter runs in training mode (batch statistics, moving averages updated) in both frameworks,
  because Keras trains BatchNorm weights only in that mode; the other BatchNorm layers of frozen groups stay in
  inference mode.
- ``lora``: every standard convolution (``groups = 1``) and linear layer of the ``groups`` it targets gets a
  frozen base weight ``W`` plus ``scaling * A @ B``; ``scaling = alpha / rank``; A is He-uniform
  (``U(-sqrt(6 / fan_in), +sqrt(6 / fan_in))``, Keras' ``he_uniform`` and torch's ``kaiming_uniform_(a=0)``), B
  is zeros, so training starts from the base model. Rank r adds ``r * (c_in * k * k + c_out)`` parameters to a
  k x k convolution and ``r * (in + out)`` to a linear layer. Depthwise convolutions (MobileNetV2's) are
  skipped in every backend: Keras has no LoRA for them. Before the test pass the adapters are merged into the
  base weights (``TrainingSession.prepare_for_inference``).

The head always trains fully and never gets adapters.
"""

from __future__ import annotations

from dataclasses import dataclass

from suite.architectures.groups import HEAD_GROUP, expand_group_names
from suite.architectures.parity_notes import DEPTHWISE_LORA
from suite.spec.models import LORA_KINDS, StrategySpec


@dataclass(frozen=True)
class LoraInit:
    """Initialisers of the adapter matrices: A He-uniform, B zeros (training starts from the base model)."""

    a: str = "he_uniform"
    b: str = "zeros"


@dataclass(frozen=True)
class LoraPlan:
    """Adapters of rank ``rank`` on the ``kinds`` (``conv``/``linear``) layers of ``groups``, scaled by ``scaling``."""

    rank: int
    alpha: float
    scaling: float
    dropout: float
    kinds: list[str]
    groups: list[str]
    init: LoraInit
    depthwise: str
    merge_for_test: bool


@dataclass(frozen=True)
class PeftPlan:
    """What trains inside the frozen groups: ``train_only`` kinds in ``train_only_groups``, and LoRA adapters.

    ``groups``: every frozen group PEFT touches (the feature cache stops before the first of them).
    """

    train_only: list[str]
    train_only_groups: list[str]
    lora: LoraPlan | None
    groups: list[str]


def peft_plan(strategy: StrategySpec, names: list[str], frozen: list[str]) -> PeftPlan | None:
    """The plan's ``peft`` entry for a strategy whose ``frozen`` groups stay frozen all run; None without PEFT."""
    if strategy.train_only is None and strategy.lora is None:
        return None
    body = [name for name in frozen if name != HEAD_GROUP]
    return PeftPlan(
        train_only=sorted(strategy.train_only) if strategy.train_only else [],
        train_only_groups=body if strategy.train_only else [],
        lora=_lora_plan(strategy, names, body),
        groups=[name for name in names if name in set(body) and _touches(strategy, name, names, body)],
    )


def _lora_plan(strategy: StrategySpec, names: list[str], frozen: list[str]) -> LoraPlan | None:
    lora = strategy.lora
    if lora is None:
        return None
    if all(target in LORA_KINDS for target in lora.targets):
        kinds, groups = sorted(lora.targets), list(frozen)
    else:
        kinds, groups = list(LORA_KINDS), expand_group_names(lora.targets, names, "strategy.lora.targets")
        thawed = [name for name in groups if name not in frozen]
        if thawed:
            raise ValueError(f"strategy.lora.targets: LoRA adapts frozen groups only; {', '.join(thawed)} train fully")
    return LoraPlan(
        rank=lora.rank,
        alpha=lora.alpha,
        scaling=lora.alpha / lora.rank,
        dropout=lora.dropout,
        kinds=kinds,
        groups=groups,
        init=LoraInit(),
        depthwise=DEPTHWISE_LORA,
        merge_for_test=True,
    )


def _touches(strategy: StrategySpec, name: str, names: list[str], frozen: list[str]) -> bool:
    if strategy.train_only:
        return True
    plan = _lora_plan(strategy, names, frozen)
    return plan is not None and name in plan.groups


def lora_param_count(rank: int, fan_in: int, fan_out: int) -> int:
    """Adapter size of one layer: ``rank * (fan_in + fan_out)`` (``fan_in = c_in * k * k`` for a convolution)."""
    return rank * (fan_in + fan_out)

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

from suite.strategies import PlanContribution


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


def peft_section(contributions: list[PlanContribution], names: list[str]) -> PeftPlan | None:
    """The plan's ``peft`` section from the PEFT strategies' contributions (:mod:`suite.strategies.peft`)."""
    parts = [contribution.peft for contribution in contributions if contribution.peft]
    if not parts:
        return None
    merged: dict = {"train_only": [], "train_only_groups": [], "lora": None}
    touched: set[str] = set()
    for part in parts:
        merged.update({key: value for key, value in part.items() if key != "touched_groups"})
        touched |= set(part.get("touched_groups", []))
    lora = LoraPlan(**merged["lora"], init=LoraInit()) if merged["lora"] is not None else None
    return PeftPlan(
        train_only=merged["train_only"],
        train_only_groups=merged["train_only_groups"],
        lora=lora,
        groups=[name for name in names if name in touched],
    )

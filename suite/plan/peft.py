"""Parameter-efficient fine-tuning in the neutral plan: BitFit, norm-only tuning and LoRA, one convention.

The plan's ``peft`` entry (``plan.json``; None without PEFT) tells every runner the same thing:

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

from typing import Any

from suite.strategies import PlanContribution
from suite.strategies.peft import DEPTHWISE_RULE, LORA_INIT, lora_param_count

__all__ = ["DEPTHWISE_RULE", "LORA_INIT", "lora_param_count", "peft_section"]


def peft_section(contributions: list[PlanContribution], names: list[str]) -> dict[str, Any] | None:
    """The plan's ``peft`` entry from the PEFT strategies' contributions; None without PEFT."""
    parts = [contribution.peft for contribution in contributions if contribution.peft]
    if not parts:
        return None
    merged: dict[str, Any] = {"train_only": [], "train_only_groups": [], "lora": None}
    touched: set[str] = set()
    for part in parts:
        merged.update({key: value for key, value in part.items() if key != "touched_groups"})
        touched |= set(part.get("touched_groups", []))
    return {**merged, "groups": [name for name in names if name in touched]}

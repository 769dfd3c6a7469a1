"""The built-in strategies, declared once each, in label order.

A new strategy is one :class:`~suite.strategies.declaration.StrategyDeclaration` added here (or declared by a
plugin module named under the ``suite.strategies`` entry point); where it needs a framework primitive that does
not exist yet, one function in each runner's ``freezing.py``.
"""

from __future__ import annotations

from suite.strategies.declaration import declare_strategy
from suite.strategies.freezing import BATCHNORM_POLICY, FREEZE_LEVEL, GRADUAL_UNFREEZING, TWO_PHASE_FINETUNE
from suite.strategies.peft import LORA, TRAIN_ONLY
from suite.strategies.rates import DISCRIMINATIVE_LR

BUILT_IN = (FREEZE_LEVEL, BATCHNORM_POLICY, TRAIN_ONLY, LORA, DISCRIMINATIVE_LR, GRADUAL_UNFREEZING, TWO_PHASE_FINETUNE)
"""Freeze levels, BatchNorm policy, BitFit / norm-only, LoRA, discriminative LR, gradual unfreezing, two-phase."""

for _declaration in BUILT_IN:
    declare_strategy(_declaration)

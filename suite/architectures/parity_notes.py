"""The parity notes: every documented difference between the frameworks that no setting removes, in one place.

A shared architecture's own note (why its versions are not the same function) is part of its declaration in
:mod:`suite.architectures.catalog`; ``suite parity`` and the report show it beside its logit and weight
differences (``ModelDescription.parity_note``). The plan states the BatchNorm note for every model with BatchNorm; the
runners' checks refuse, with these words, what one framework cannot do as the other does.
"""

from __future__ import annotations

BATCHNORM_VARIANCE = (
    "BatchNorm running variance: PyTorch updates it with the unbiased batch variance (x N/(N-1)), Keras with "
    "the biased one, so models with BatchNorm drift apart slightly in their moving variance"
)
"""Stated in the plan's notes of every model with BatchNorm."""

KERAS_FROZEN_BATCHNORM = (
    "Keras 3 runs a BatchNormalization layer whose weights are frozen in inference mode, so frozen groups cannot "
    "update their statistics as torch's train() does"
)
"""Why the Keras runner refuses ``strategy.bn_mode = "train"`` on frozen groups with BatchNorm."""

KERAS_LORA_DROPOUT = "Keras' enable_lora has no dropout"
"""Why the Keras runner refuses ``strategy.lora.dropout > 0``."""

DEPTHWISE_LORA = "skipped (no depthwise LoRA in Keras)"
"""What every runner does with depthwise convolutions under LoRA (the plan's ``peft.lora.depthwise``)."""

STOCHASTIC_DEPTH = (
    "stochastic depth: the same drop rate per block in every backend, but each framework draws its own random masks"
)
"""Stated in the plan's notes of every run whose model drops residual branches in training (EfficientNet)."""

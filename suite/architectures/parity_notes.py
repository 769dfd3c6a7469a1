"""The parity notes: every documented difference between the frameworks that no setting removes, in one place.

``suite parity`` and the report show a model's note beside its logit and weight differences
(``ModelDescription.parity_note``); the plan states the BatchNorm note for every model with BatchNorm; the
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

MODEL_NOTES = {
    "mobilenet_v2": "keras.applications pads stride-2 convolutions asymmetrically (ZeroPadding2D ((0,1),(0,1))), "
    "torchvision symmetrically: not the same function",
}
"""Why a shared architecture's versions are not the same function in every backend, by model name."""


def model_note(name: str) -> str | None:
    """The parity note of model ``name`` (None when its versions compute the same function)."""
    return MODEL_NOTES.get(name)

"""The plan's PEFT entry on a Keras model: BitFit / norm-only by variable selection, LoRA by ``enable_lora``.

Follows the neutral convention of :mod:`suite.plan.peft`, which Keras 3.15 already matches: ``enable_lora(rank,
lora_alpha, a_initializer="he_uniform", b_initializer="zeros")`` scales ``A @ B`` by ``alpha / rank``. Adapters go
on ``Conv2D`` (``groups = 1``) and ``Dense`` layers of the targeted frozen groups; ``DepthwiseConv2D`` has no LoRA
and is skipped (so does the torch runner). Keras has no LoRA dropout: a spec with ``lora.dropout > 0`` is
refused before training (:mod:`keras_impl.checks`). A layer with a training variable is set
``trainable`` (which also puts BatchNorm in training mode, as the torch runner does for tuned norms) and each of
its other variables is frozen one by one.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from keras_impl.models.registry import BuiltModel
from suite.plan.peft import PeftPlan

_NORMS = (keras.layers.BatchNormalization, keras.layers.LayerNormalization, keras.layers.GroupNormalization)


def leaf_layers(built: BuiltModel, group: str) -> list[Any]:
    """Every layer of ``group``, nested ones included."""
    return [leaf for layer in built.groups[group] for leaf in layer._flatten_layers()]


def _is_lora_target(layer: Any, kinds: set[str]) -> bool:
    conv = isinstance(layer, keras.layers.Conv2D) and getattr(layer, "groups", 1) == 1
    return (conv and "conv" in kinds) or (isinstance(layer, keras.layers.Dense) and "linear" in kinds)


def attach_lora(built: BuiltModel, peft: PeftPlan | None) -> int:
    """Enable LoRA on the plan's targets (``enable_lora``); returns how many layers got it."""
    lora = peft.lora if peft else None
    if lora is None:
        return 0
    count = 0
    for group in lora.groups:
        for layer in leaf_layers(built, group):
            if _is_lora_target(layer, set(lora.kinds)):
                layer.enable_lora(lora.rank, lora_alpha=lora.alpha, a_initializer="he_uniform", b_initializer="zeros")
                count += 1
    built.notes["lora_layers"] = count
    return count


def apply_peft_trainable(built: BuiltModel, peft: PeftPlan | None) -> None:
    """After the groups' ``trainable`` flags: adapters, and biases / norm weights of ``train_only_groups``, train."""
    if not peft:
        return
    lora_groups = set(peft.lora.groups if peft.lora else [])
    kinds = set(peft.train_only)
    for group in dict.fromkeys([*peft.train_only_groups, *lora_groups]):
        only = kinds if group in peft.train_only_groups else set()
        for layer in leaf_layers(built, group):
            chosen = _chosen_variables(layer, only, group in lora_groups)
            if not chosen:
                continue
            layer.trainable = True
            for variable in layer._trainable_variables:
                variable.trainable = id(variable) in chosen


def _chosen_variables(layer: Any, kinds: set[str], lora: bool) -> set[int]:
    """Ids of the variables of ``layer`` that train under ``kinds`` (bias / norm) and LoRA."""
    names = []
    if lora and getattr(layer, "lora_enabled", False):
        names += ["lora_kernel_a", "lora_kernel_b"]
    if isinstance(layer, _NORMS):
        names += (["gamma", "beta"] if "norm" in kinds else []) + (["beta"] if "bias" in kinds else [])
    elif "bias" in kinds:
        names.append("bias")
    return {id(variable) for name in names if (variable := getattr(layer, name, None)) is not None}


def merge_lora(built: BuiltModel) -> bool:
    """Fold every adapter into its base kernel (``kernel += alpha / rank * A @ B``) and switch LoRA off.

    The model's compiled predict function is dropped, so the next ``predict_on_batch`` traces the merged model.
    """
    merged = False
    for layer in built.model._flatten_layers():
        if getattr(layer, "lora_enabled", False):
            layer._kernel.assign(ops.cast(layer.kernel, layer._kernel.dtype))
            layer.lora_enabled = False
            merged = True
    if merged:
        built.model.predict_function = None
    return merged

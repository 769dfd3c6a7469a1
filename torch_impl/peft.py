"""The plan's PEFT entry on a torch model: BitFit / norm-only by parameter selection, LoRA through HF ``peft``.

Follows the neutral convention of :mod:`suite.plan.peft`: LoRA on every ``groups = 1`` ``Conv2d`` and every
``Linear`` of the targeted frozen groups (depthwise convolutions skipped), ``scaling = alpha / rank``, A
re-drawn He-uniform (``kaiming_uniform_(a=0)``: peft's own default is ``a = sqrt(5)``, a bound of
``1 / sqrt(fan_in)`` instead of Keras' ``sqrt(6 / fan_in)``), B zeros; merged into the base weights for the test
pass. Normalisation layers with a training parameter run in training mode.
"""

from __future__ import annotations

from torch import nn

from suite.plan.peft import LoraPlan, PeftPlan
from torch_impl.models import BuiltModel
from torch_impl.models.groups import group_layers

_NORMS = (nn.modules.batchnorm._BatchNorm, nn.LayerNorm, nn.GroupNorm)


def is_norm(layer: nn.Module) -> bool:
    """BatchNorm (any dimension), LayerNorm or GroupNorm."""
    return isinstance(layer, _NORMS)


def lora_target_names(built: BuiltModel, lora: LoraPlan) -> list[str]:
    """Qualified names of the layers that get adapters: plain convolutions and linear layers of ``lora.groups``."""
    wanted = {id(layer) for name in lora.groups for layer in group_layers(built, name)}
    kinds = set(lora.kinds)
    names = []
    for name, layer in built.module.named_modules():
        if id(layer) not in wanted:
            continue
        conv = isinstance(layer, nn.Conv2d) and layer.groups == 1 and "conv" in kinds
        if conv or (isinstance(layer, nn.Linear) and "linear" in kinds):
            names.append(name)
    return names


def attach_lora(built: BuiltModel, peft: PeftPlan | None) -> int:
    """Inject LoRA adapters in place (HF ``peft.inject_adapter_in_model``); returns how many layers got one."""
    lora = peft.lora if peft else None
    if lora is None:
        return 0
    from peft import LoraConfig, inject_adapter_in_model

    targets = lora_target_names(built, lora)
    if not targets:
        return 0
    group_names = _group_module_names(built)
    config = LoraConfig(
        r=lora.rank, lora_alpha=lora.alpha, lora_dropout=lora.dropout, target_modules=targets, bias="none"
    )
    inject_adapter_in_model(config, built.module)
    for name, module in built.module.named_modules():
        if name.endswith("lora_A.default") and isinstance(module, (nn.Conv2d, nn.Linear)):
            nn.init.kaiming_uniform_(module.weight, a=0.0)  # He-uniform, the plan's convention
    mark_adapters(built)
    built.groups = {group: [built.module.get_submodule(name) for name in names] for group, names in group_names.items()}
    return len(targets)


def _group_module_names(built: BuiltModel) -> dict[str, list[str]]:
    """Each group's top modules by qualified name (a top module that is a LoRA target gets replaced)."""
    names = {id(module): name for name, module in built.module.named_modules()}
    return {group: [names[id(module)] for module in modules] for group, modules in built.groups.items()}


def apply_peft_trainable(built: BuiltModel, peft: PeftPlan | None) -> None:
    """After the groups' ``requires_grad``: adapters, and biases / norm parameters of ``train_only_groups``, train."""
    if not peft:
        return
    for name in peft.lora.groups if peft.lora else []:
        for layer in group_layers(built, name):
            if _is_adapter(layer):
                layer.requires_grad_(True)
    kinds = set(peft.train_only)
    for name in peft.train_only_groups:
        for layer in group_layers(built, name):
            if _is_adapter(layer):
                continue
            norm = is_norm(layer)
            for key, parameter in layer.named_parameters(recurse=False):
                if (norm and "norm" in kinds) or (key == "bias" and "bias" in kinds):
                    parameter.requires_grad_(True)


def _is_adapter(layer: nn.Module) -> bool:
    """A LoRA A or B layer (peft names them ``lora_A.<adapter>`` / ``lora_B.<adapter>``)."""
    return isinstance(layer, (nn.Conv2d, nn.Linear)) and getattr(layer, "_tlbench_adapter", False)


def mark_adapters(built: BuiltModel) -> None:
    """Tag peft's adapter layers so parameter selection can tell them from the model's own layers."""
    for name, module in built.module.named_modules():
        if ".lora_A." in f".{name}." or ".lora_B." in f".{name}.":
            module._tlbench_adapter = True


def train_tuned_norms(built: BuiltModel) -> None:
    """Normalisation layers with a training parameter run in training mode (batch statistics), as in Keras."""
    for layer in built.module.modules():
        if is_norm(layer) and any(parameter.requires_grad for parameter in layer.parameters(recurse=False)):
            layer.train()


def merge_lora(built: BuiltModel) -> bool:
    """Fold every adapter into its base weight (``W += scaling * B @ A``); True when something was merged."""
    merged = False
    for module in built.module.modules():
        if hasattr(module, "merge") and hasattr(module, "lora_A") and not getattr(module, "merged", False):
            module.merge()
            merged = True
    return merged

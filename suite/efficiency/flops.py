"""FLOPs per image: forward from the architecture, training from the forward costs and what trains.

Convention (:data:`FLOP_CONVENTION`): 1 multiply-accumulate (MAC) = 2 FLOPs, counted for convolutions and
matrix products only (what ``torch.utils.flop_counter`` counts; torchvision's ``_ops`` metadata are GMACs,
half our number). Element-wise work (BatchNorm, activations, pooling, additions, the loss) is not counted.

Training rule, per image, over the costed layers in definition order (``ModelDescription.layer_costs``):

- forward: every layer's MACs;
- input gradients: one forward's worth for every layer after the first layer with a training parameter
  (frozen layers below it cost no backward pass; frozen layers above it pass gradients down);
- weight gradients: one forward's worth for every convolution / dense layer whose group trains (bias and
  normalisation gradients are element-wise: 0);
- LoRA (``plan["peft"]["lora"]``): each adapted layer adds ``rank * (fan_in + fan_out)`` MACs per output
  position to the forward, the same for its adapters' weight gradients, and again for input gradients when
  it lies above the first training layer.

On a sequential network this is exactly what autograd computes (``torch.utils.flop_counter`` over a training
step gives the same number, see the tests); on a network with skip connections layers are taken in
definition order, so a downsample convolution beside the first trainable one is counted as passing
gradients down.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from suite.runners.protocol import LayerCost

FLOP_CONVENTION = (
    "FLOPs = 2 x multiply-accumulates of convolutions and matrix products (torch.utils.flop_counter's count; "
    "torchvision's _ops are GMACs = FLOPs / 2); element-wise work is not counted"
)
WEIGHTED_KINDS = ("conv", "depthwise", "dense")
LORA_KINDS = ("conv", "dense")


def forward_flops(layers: Iterable[LayerCost]) -> int:
    """FLOPs of one forward pass for one image."""
    return 2 * sum(layer.macs for layer in layers)


def train_flops(layers: list[LayerCost], trainable: Iterable[str], peft: dict[str, Any] | None = None) -> int:
    """FLOPs of one training step per image (forward + backward) when the groups ``trainable`` train.

    ``peft`` is the plan's ``peft`` entry (``train_only`` parameters and ``lora`` adapters inside frozen groups).
    """
    groups = set(trainable)
    touched = [_touched(layer, groups, peft) for layer in layers]
    first = touched.index(True) if any(touched) else len(layers)
    rank = _lora_rank(peft)
    macs = 0
    for index, layer in enumerate(layers):
        adapter = _adapter_macs(layer, rank) if _adapted(layer, groups, peft) else 0
        passes_down = index > first
        weight_grads = layer.group in groups and layer.kind in WEIGHTED_KINDS
        macs += layer.macs + adapter  # forward
        macs += (layer.macs + adapter) if passes_down else 0  # input gradients
        macs += (layer.macs if weight_grads else 0) + adapter  # weight gradients
    return 2 * macs


def plan_train_flops(layers: list[LayerCost], plan: dict[str, Any]) -> float:
    """Mean over the plan's epochs of :func:`train_flops` for each epoch's trainable groups."""
    segments = (plan.get("epochs") or {}).get("segments") or []
    total = sum(segment["epochs"] for segment in segments)
    if not total:
        return float(train_flops(layers, plan.get("groups", []), plan.get("peft")))
    flops = [segment["epochs"] * train_flops(layers, segment["trainable"], plan.get("peft")) for segment in segments]
    return sum(flops) / total


def _touched(layer: LayerCost, groups: set[str], peft: dict[str, Any] | None) -> bool:
    """True when the layer holds a parameter that trains (its group trains, or PEFT trains part of it)."""
    if layer.group in groups:
        return layer.kind in WEIGHTED_KINDS or layer.kind == "norm"
    if not peft:
        return False
    only = set(peft.get("train_only") or [])
    in_scope = layer.group in set(peft.get("train_only_groups") or [])
    if in_scope and "bias" in only and (layer.has_bias or layer.kind == "norm"):
        return True
    if in_scope and "norm" in only and layer.kind == "norm":
        return True
    return _adapted(layer, groups, peft)


def _adapted(layer: LayerCost, groups: set[str], peft: dict[str, Any] | None) -> bool:
    lora = (peft or {}).get("lora")
    return bool(lora) and layer.group not in groups and layer.group in lora["groups"] and layer.kind in LORA_KINDS


def _lora_rank(peft: dict[str, Any] | None) -> int:
    lora = (peft or {}).get("lora")
    return int(lora["rank"]) if lora else 0


def _adapter_macs(layer: LayerCost, rank: int) -> int:
    """``rank * (fan_in + fan_out)`` per output position (positions = MACs / (fan_in * fan_out))."""
    if not layer.fan_in or not layer.fan_out:
        return 0
    positions = layer.macs // (layer.fan_in * layer.fan_out)
    return rank * (layer.fan_in + layer.fan_out) * positions

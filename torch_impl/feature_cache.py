"""Frozen-prefix feature cache: run the frozen leading groups once per sample, train the rest on their output.

Valid only when the prefix computes the same thing every epoch: its groups stay frozen for the
whole run, its BatchNorm layers are in eval mode (``bn_mode = "frozen"``) and it holds no dropout.
There is no data augmentation in the suite, so inputs do not change between epochs.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from torch_impl.data import PRELOAD_LIMIT_BYTES, StreamingSplit, TensorSplit
from torch_impl.models import BuiltModel
from torch_impl.precision import Numerics


@dataclass(frozen=True)
class CachePlan:
    """How many leading groups to cache, or why none."""

    prefix_groups: list[str]
    reason: str

    @property
    def active(self) -> bool:
        """True when at least one group is cached."""
        return bool(self.prefix_groups)


def plan_cache(built: BuiltModel, always_frozen: set[str], bn_mode: str) -> CachePlan:
    """The longest prefix of groups that stays frozen all run and behaves the same in train and eval mode."""
    if not built.staged:
        return CachePlan([], "the model is not a plain sequence of groups")
    prefix: list[str] = []
    for name, modules in built.groups.items():
        if name == "head" or name not in always_frozen:
            break
        layers = [layer for module in modules for layer in module.modules()]
        if any(isinstance(layer, nn.modules.dropout._DropoutNd) for layer in layers):
            break
        if bn_mode != "frozen" and any(isinstance(layer, nn.modules.batchnorm._BatchNorm) for layer in layers):
            return CachePlan([], "bn_mode = 'train' updates BatchNorm statistics of frozen groups every step")
        prefix.append(name)
    if not prefix:
        return CachePlan([], "no frozen leading group stays frozen for the whole run")
    return CachePlan(prefix, f"caching the output of {', '.join(prefix)}")


def split_model(built: BuiltModel, prefix_length: int) -> tuple[nn.Sequential, nn.Sequential]:
    """(prefix, rest) views of a staged network sharing its modules."""
    module = built.module
    assert isinstance(module, nn.Sequential)
    return module[:prefix_length], module[prefix_length:]


@torch.no_grad()
def cache_features(
    prefix: nn.Module,
    split: TensorSplit | StreamingSplit,
    numerics: Numerics,
    batch_size: int,
    limit_bytes: int = PRELOAD_LIMIT_BYTES,
) -> TensorSplit | None:
    """The prefix output for every sample of ``split`` (in order), or None when it exceeds ``limit_bytes``."""
    was_training = prefix.training
    prefix.eval()
    features, labels, used = [], [], 0
    for inputs, batch_labels in split.batches(batch_size):
        with numerics.autocast():
            output = prefix(inputs)
        used += output.numel() * output.element_size()
        if used > limit_bytes:
            prefix.train(was_training)
            return None
        keep_on = numerics.device if numerics.device.type == "cuda" else torch.device("cpu")
        features.append(output.to(keep_on))
        labels.append(batch_labels.to(keep_on))
    prefix.train(was_training)
    return TensorSplit(torch.cat(features), torch.cat(labels), numerics.device, numerics.channels_last)

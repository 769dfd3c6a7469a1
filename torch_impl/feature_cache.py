"""The frozen-prefix feature cache, torch side: split a staged network into the cached prefix and the rest.

The core decides which leading groups to cache (frozen all run, BatchNorm in inference mode, no dropout),
stores their outputs and feeds them back; this module only cuts the ``nn.Sequential`` of groups in two.
"""

from __future__ import annotations

from torch import nn

from torch_impl.models import BuiltModel


def prefix_length(built: BuiltModel, groups: list[str]) -> int:
    """How many leading stages ``groups`` are; ValueError unless they are the model's first groups in order."""
    names = list(built.groups)
    if not built.staged:
        raise ValueError("the feature cache needs a staged model (an nn.Sequential of its groups)")
    if not groups or names[: len(groups)] != list(groups) or "head" in groups:
        raise ValueError(f"cached groups {groups} are not a leading prefix of {names} before the head")
    return len(groups)


def _staged(built: BuiltModel) -> nn.Sequential:
    module = built.module
    assert isinstance(module, nn.Sequential)
    return module


def prefix_model(built: BuiltModel, groups: list[str]) -> nn.Sequential:
    """The input -> the output of the leading ``groups``: a view of the staged network sharing its modules."""
    return _staged(built)[: prefix_length(built, groups)]


def suffix_model(built: BuiltModel, groups: list[str]) -> nn.Sequential:
    """The output of the leading ``groups`` -> the logits: every group after them, same modules."""
    return _staged(built)[prefix_length(built, groups) :]

"""Parameter accounting with the suite's meaning (learnable weights; float buffers reported apart)."""

from __future__ import annotations

from torch import nn

from suite.runners.protocol import ParamCounts
from torch_impl.models import BuiltModel
from torch_impl.models.groups import group_parameters


def count_buffers(module: nn.Module) -> int:
    """Floating-point buffers only (BatchNorm running mean/var), as Keras counts moving statistics.

    Integer bookkeeping such as ``num_batches_tracked`` is left out so both frameworks agree.
    """
    return sum(buffer.numel() for buffer in module.buffers() if buffer.is_floating_point())


def count_params(built: BuiltModel) -> ParamCounts:
    """Total/trainable/frozen parameters, float buffers and per-group ``{total, trainable}``."""
    parameters = list(built.module.parameters())
    total = sum(p.numel() for p in parameters)
    trainable = sum(p.numel() for p in parameters if p.requires_grad)
    groups = {}
    for name in built.groups:
        group = group_parameters(built, name)
        groups[name] = {
            "total": sum(p.numel() for p in group),
            "trainable": sum(p.numel() for p in group if p.requires_grad),
        }
    return ParamCounts(
        total=total, trainable=trainable, frozen=total - trainable, buffers=count_buffers(built.module), groups=groups
    )

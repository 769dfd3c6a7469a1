"""Parameter accounting with the suite's meaning (learnable weights; float buffers reported apart)."""

from __future__ import annotations

from torch import nn

from suite.runners.protocol import ParamCounts
from torch_impl.models import BuiltModel


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
    for name, modules in built.groups.items():
        group_params = [p for module in modules for p in module.parameters()]
        groups[name] = {
            "total": sum(p.numel() for p in group_params),
            "trainable": sum(p.numel() for p in group_params if p.requires_grad),
        }
    return ParamCounts(
        total=total, trainable=trainable, frozen=total - trainable, buffers=count_buffers(built.module), groups=groups
    )

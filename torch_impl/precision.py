"""Numerics: where the run computes, in which precision and memory layout, and waiting for the device.

``keras_impl.precision`` is the same job for Keras (a dtype policy instead of autocast).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import torch
from torch import nn

from suite.environment import cpu_supports_bf16
from suite.plan.sections import ExecutionPlan

_AUTOCAST_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


@dataclass(frozen=True)
class Numerics:
    """Resolved execution settings: where, in which precision, in which layout."""

    device: torch.device
    precision: str
    channels_last: bool

    @property
    def autocast_dtype(self) -> torch.dtype | None:
        """The dtype for ``torch.autocast`` (None = plain fp32)."""
        return _AUTOCAST_DTYPES.get(self.precision)

    @property
    def float_dtype(self) -> torch.dtype:
        """The dtype of parameters and inputs: float64 for ``fp64``, else float32 (autocast does the rest)."""
        return torch.float64 if self.precision == "fp64" else torch.float32

    def autocast(self) -> contextlib.AbstractContextManager:
        """Context running the forward pass in the chosen precision."""
        dtype = self.autocast_dtype
        if dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=dtype)

    def grad_scaler(self) -> torch.amp.GradScaler | None:
        """Loss scaler for fp16 (CUDA only); None otherwise."""
        return torch.amp.GradScaler("cuda") if self.precision == "fp16" else None

    def synchronize(self) -> None:
        """Wait for the work queued on the current stream before a clock is read.

        Not the whole device: the feed's copy of the next batch, on its side stream, may still run.
        """
        if self.device.type == "cuda":
            torch.cuda.current_stream(self.device).synchronize()


def resolve_device(device: str) -> torch.device:
    """``auto`` = CUDA when available, else CPU."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def resolve_precision(precision: str, device: torch.device) -> str:
    """``auto`` = bf16 where the hardware runs it natively (bf16 CPUs, bf16-capable GPUs), else fp32."""
    if precision != "auto":
        return precision
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    return "bf16" if cpu_supports_bf16() else "fp32"


def is_convolutional(module: nn.Module) -> bool:
    """True when the network holds a convolution (channels-last helps only those)."""
    return any(isinstance(layer, nn.modules.conv._ConvNd) for layer in module.modules())


def resolve_numerics(execution: ExecutionPlan, module: nn.Module) -> Numerics:
    """The plan's settings on ``module``; ``channels_last = "auto"`` turns it on for convolutional networks."""
    device = resolve_device(execution.device)
    channels_last = execution.channels_last
    if channels_last == "auto":
        channels_last = is_convolutional(module)
    return Numerics(device, resolve_precision(execution.precision, device), bool(channels_last))


def precision_problems(device: str, precision: str) -> list[str]:
    """Precision/device combinations (``training.device``, ``training.precision``) this machine cannot run."""
    problems = []
    cuda = torch.cuda.is_available()
    if device == "cuda" and not cuda:
        problems.append("training.device = 'cuda' but no CUDA device is available")
    on_cpu = device == "cpu" or (device == "auto" and not cuda)
    if precision == "fp16" and on_cpu:
        problems.append("precision 'fp16' needs a CUDA device (CPU autocast supports bf16); use bf16, auto or fp32")
    if precision == "bf16" and not on_cpu and not torch.cuda.is_bf16_supported():
        problems.append("precision 'bf16' is not supported by this GPU; use fp16, auto or fp32")
    if precision == "bf16" and on_cpu and not cpu_supports_bf16():
        problems.append("precision 'bf16' on this CPU has no native bf16 support (avx512_bf16/amx); use auto or fp32")
    return problems

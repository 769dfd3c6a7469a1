"""PyTorch backend: registers the ``torch`` runner without importing torch.

The framework is imported only when the runner is created, so ``suite list`` stays cheap and
works on machines without torch (the backend is then listed as unavailable).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from suite.runners.capabilities import RunnerCapabilities
from suite.runners.registry import register_runner

if TYPE_CHECKING:
    from suite.runners.protocol import Runner

CAPABILITIES = RunnerCapabilities(
    resume_state=True,
    feature_cache=True,
    soft_labels=True,
    peft=("bias", "norm", "lora"),
    devices=("auto", "cpu", "cuda"),
    precisions=("auto", "fp32", "bf16", "fp16", "fp64"),
    models="mlp, simple_cnn, resnet10 and every torchvision classifier",
)
"""What the torch runner supports (its one declaration; :class:`torch_impl.runner.TorchRunner` carries it)."""


@register_runner(
    "torch",
    requires=("torch", "torchvision"),
    capabilities=CAPABILITIES,
    description="PyTorch + torchvision: MLP, simple CNN, any torchvision classifier; layer-group transfer learning",
    extra="torch",
)
def create_torch_runner() -> Runner:
    """Build the PyTorch runner (imports torch lazily)."""
    from torch_impl.runner import TorchRunner

    return TorchRunner()

"""PyTorch backend: registers the ``torch`` runner without importing torch.

The framework is imported only when the runner is created, so ``suite list`` stays cheap and
works on machines without torch (the backend is then listed as unavailable).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from suite.runners.registry import register_runner

if TYPE_CHECKING:
    from suite.runners.protocol import Runner


@register_runner(
    "torch",
    requires=("torch", "torchvision"),
    description="PyTorch + torchvision: MLP, simple CNN, any torchvision classifier; layer-group transfer learning",
    extra="torch",
)
def create_torch_runner() -> Runner:
    """Build the PyTorch runner (imports torch lazily)."""
    from torch_impl.runner import TorchRunner

    return TorchRunner()

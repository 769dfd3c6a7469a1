"""Machine facts plus torch/torchvision versions, the device and its name."""

from __future__ import annotations

from typing import Any

import torch
import torchvision

from suite.environment import base_environment


def environment(device: torch.device) -> dict[str, Any]:
    """The run's environment record for ``device`` (GPU name on CUDA)."""
    env = base_environment()
    env["frameworks"] = {"torch": torch.__version__, "torchvision": torchvision.__version__}
    env["device"] = str(device)
    if device.type == "cuda":
        env["gpu"] = torch.cuda.get_device_name(device)
    return env

"""The core's numpy batches as torch tensors on the training device, and tensors back to numpy.

Images arrive as float32 NHWC arrays and go in as NCHW tensors: a permuted view of an NHWC buffer already
has channels-last strides, so the channels-last layout costs no copy; the standard layout copies on the
device. Cached prefix features arrive in the layout :func:`features_array` gave them (NCHW when 4-D).
"""

from __future__ import annotations

import numpy as np
import torch

from torch_impl.precision import Numerics


def input_tensor(batch: np.ndarray, numerics: Numerics, nhwc: bool = True) -> torch.Tensor:
    """``batch`` on the device; 4-D images (``nhwc``) become NCHW in the numerics' memory format."""
    tensor = torch.from_numpy(np.ascontiguousarray(batch, dtype=np.float32))
    if tensor.dim() != 4:
        return tensor.to(numerics.device, non_blocking=True)
    if nhwc:
        tensor = tensor.permute(0, 3, 1, 2)
    tensor = tensor.to(numerics.device, non_blocking=True)
    return tensor.contiguous(memory_format=torch.channels_last if numerics.channels_last else torch.contiguous_format)


def label_tensor(labels: np.ndarray, device: torch.device) -> torch.Tensor:
    """(N,) class indices as int64, or (N, C) class probabilities (mixup/CutMix) as float32, on ``device``."""
    dtype = np.int64 if labels.ndim == 1 else np.float32
    return torch.from_numpy(np.ascontiguousarray(labels, dtype=dtype)).to(device, non_blocking=True)


def features_array(tensor: torch.Tensor) -> np.ndarray:
    """A network output as a float32 numpy array in the standard (NCHW when 4-D) layout."""
    return tensor.detach().float().contiguous().cpu().numpy()

"""BatchNorm layers of the torch runner: BatchNorm2d with Keras' update rule, for the keras.applications twins.

The torch twins of keras.applications networks (the keras layout) use it; ``keras_impl.models.batchnorm`` is the
same job the other way round (Keras's BatchNormalization with torch's update and float64 kept).
"""

from __future__ import annotations

import torch
from torch import nn


def keras_batch_norm(layer: nn.modules.batchnorm._BatchNorm, inputs: torch.Tensor) -> torch.Tensor:
    """``layer`` in training mode, its running variance updated with the biased batch variance, as Keras does.

    Normalisation in training uses the biased batch variance in both frameworks; only the running estimate differs
    (torch multiplies the batch variance by n / (n - 1)), so this one update is written by hand, the mirror image
    of ``keras_impl.models.batchnorm``.
    """
    mean = inputs.mean(dim=(0, 2, 3))
    variance = inputs.var(dim=(0, 2, 3), unbiased=False)
    with torch.no_grad():
        layer.running_mean.lerp_(mean.detach().to(layer.running_mean.dtype), layer.momentum)
        layer.running_var.lerp_(variance.detach().to(layer.running_var.dtype), layer.momentum)
        layer.num_batches_tracked.add_(1)
    scale = torch.rsqrt(variance + layer.eps)
    if layer.weight is not None:
        scale = scale * layer.weight
    outputs = (inputs - mean[None, :, None, None]) * scale[None, :, None, None]
    return outputs + layer.bias[None, :, None, None] if layer.bias is not None else outputs


class KerasBatchNorm2d(nn.BatchNorm2d):
    """torch's BatchNorm2d whose running variance takes the biased batch variance, as Keras' BatchNormalization.

    Inference and frozen layers run torch's own kernel; training runs :func:`keras_batch_norm`.
    """

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:  # noqa: D102
        if not (self.training and self.track_running_stats):
            return super().forward(inputs)
        return keras_batch_norm(self, inputs)

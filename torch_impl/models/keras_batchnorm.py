"""BatchNorm2d with Keras' update rule, for the torch twins of keras.applications networks (the keras layout)."""

from __future__ import annotations

import torch
from torch import nn


class KerasBatchNorm2d(nn.BatchNorm2d):
    """torch's BatchNorm2d whose running variance takes the biased batch variance, as Keras' BatchNormalization.

    Normalisation in training uses the biased batch variance in both frameworks; only the running estimate differs
    (torch multiplies the batch variance by n / (n - 1)), so this one update is written by hand, the mirror image
    of ``keras_impl.models.torch_batchnorm``. Inference and frozen layers run torch's own kernel.
    """

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:  # noqa: D102
        if not (self.training and self.track_running_stats):
            return super().forward(inputs)
        mean = inputs.mean(dim=(0, 2, 3))
        variance = inputs.var(dim=(0, 2, 3), unbiased=False)
        with torch.no_grad():
            self.running_mean.lerp_(mean.detach().to(self.running_mean.dtype), self.momentum)
            self.running_var.lerp_(variance.detach().to(self.running_var.dtype), self.momentum)
            self.num_batches_tracked.add_(1)
        scale = torch.rsqrt(variance + self.eps)
        if self.weight is not None:
            scale = scale * self.weight
        outputs = (inputs - mean[None, :, None, None]) * scale[None, :, None, None]
        return outputs + self.bias[None, :, None, None] if self.bias is not None else outputs

"""Colour jitter on uint8 batches: brightness, contrast and saturation, in torchvision's definitions.

Each factor is drawn uniformly from ``[1 - x, 1 + x]`` per sample and applied in that fixed order
(brightness scales the pixels; contrast blends with the image's mean grey; saturation blends with each
pixel's grey, ITU-R 601 weights); results are rounded and clipped to 0..255.
"""

from __future__ import annotations

import numpy as np

from suite.spec.models import ColorJitterSpec

_GREY = (np.float32(0.299), np.float32(0.587), np.float32(0.114))


def _factors(strength: float, draws: np.ndarray) -> np.ndarray:
    return (1.0 - strength + 2.0 * strength * draws).astype(np.float32)[:, None, None, None]


def _grey(images: np.ndarray) -> np.ndarray:
    if images.shape[-1] != 3:
        return images[..., 0]
    return images[..., 0] * _GREY[0] + images[..., 1] * _GREY[1] + images[..., 2] * _GREY[2]


def color_jitter(images: np.ndarray, spec: ColorJitterSpec, draws: np.ndarray) -> np.ndarray:
    """Jittered copy of a uint8 NHWC batch (``draws``: (N, 3) uniforms)."""
    out = images.astype(np.float32)
    if spec.brightness:
        out = np.clip(out * _factors(spec.brightness, draws[:, 0]), 0, 255, out=out)
    if spec.contrast:
        mean = _grey(out).mean(axis=(1, 2))[:, None, None, None]
        factor = _factors(spec.contrast, draws[:, 1])
        out = np.clip(factor * out + (1 - factor) * mean, 0, 255)
    if spec.saturation and images.shape[-1] == 3:
        factor = _factors(spec.saturation, draws[:, 2])
        out = np.clip(factor * out + (1 - factor) * _grey(out)[..., None], 0, 255)
    return np.rint(out).astype(np.uint8)

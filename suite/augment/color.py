"""Colour jitter on uint8 batches: brightness, contrast and saturation, in torchvision's definitions.

Each factor is drawn uniformly from ``[1 - x, 1 + x]`` per sample and applied in that fixed order
(brightness scales the pixels; contrast blends with the image's mean grey; saturation blends with each
pixel's grey, ITU-R 601 weights, computed by OpenCV); results are rounded and clipped to 0..255.
"""

from __future__ import annotations

import cv2
import numpy as np

from suite.spec.models import ColorJitterSpec


def _factors(strength: float, draws: np.ndarray) -> np.ndarray:
    return (1.0 - strength + 2.0 * strength * draws).astype(np.float32)[:, None, None, None]


def _grey(images: np.ndarray) -> np.ndarray:
    """(N, H, W, 1) grey of float32 RGB images (OpenCV's RGB2GRAY: 0.299 R + 0.587 G + 0.114 B)."""
    n, height, width, _ = images.shape
    flat = np.ascontiguousarray(images).reshape(n * height, width, 3)
    return cv2.cvtColor(flat, cv2.COLOR_RGB2GRAY).reshape(n, height, width, 1)


def color_jitter(images: np.ndarray, spec: ColorJitterSpec, draws: np.ndarray) -> np.ndarray:
    """Jittered copy of a uint8 NHWC batch (``draws``: (N, 3) uniforms)."""
    out = images.astype(np.float32)
    if spec.brightness:
        out *= _factors(spec.brightness, draws[:, 0])
        np.clip(out, 0, 255, out=out)
    if spec.contrast:
        grey = _grey(out) if out.shape[-1] == 3 else out
        factor = _factors(spec.contrast, draws[:, 1])
        out *= factor
        out += (1 - factor) * grey.mean(axis=(1, 2, 3), keepdims=True)
        np.clip(out, 0, 255, out=out)
    if spec.saturation and out.shape[-1] == 3:
        factor = _factors(spec.saturation, draws[:, 2])
        grey = _grey(out)
        out *= factor
        out += (1 - factor) * grey
        np.clip(out, 0, 255, out=out)
    return np.rint(out, out=out).astype(np.uint8)

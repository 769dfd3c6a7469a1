"""mixup and CutMix with soft labels, each sample mixed with the next sample of the epoch's order.

Pairing by position in the epoch order (sample at position ``p`` with the one at ``p + 1``, wrapping
around) instead of within a batch keeps the result independent of the batch size. The mixing weight
``lam`` ~ Beta(alpha, alpha) comes from the sample's keyed draws (inverse CDF); with both on, each sample
takes one of the two with probability 1/2. CutMix's label weight is the area actually kept.
"""

from __future__ import annotations

import numpy as np
from scipy.special import betaincinv


def _beta(alpha: float, draws: np.ndarray) -> np.ndarray:
    return betaincinv(alpha, alpha, draws)


def _cut_boxes(height: int, width: int, lam: np.ndarray, draws: np.ndarray) -> np.ndarray:
    """(N, 4) boxes ``y0, y1, x0, x1``: side sqrt(1 - lam), centre uniform, clipped to the image."""
    cut = np.sqrt(1.0 - lam)
    cut_h, cut_w = (height * cut).astype(np.int64), (width * cut).astype(np.int64)
    cy = np.floor(draws[:, 0] * height).astype(np.int64)
    cx = np.floor(draws[:, 1] * width).astype(np.int64)
    y0, y1 = np.clip(cy - cut_h // 2, 0, height), np.clip(cy + cut_h // 2, 0, height)
    x0, x1 = np.clip(cx - cut_w // 2, 0, width), np.clip(cx + cut_w // 2, 0, width)
    return np.stack([y0, y1, x0, x1], axis=1)


def mix(
    images: np.ndarray,
    partners: np.ndarray,
    labels: np.ndarray,
    partner_labels: np.ndarray,
    num_classes: int,
    alphas: tuple[float | None, float | None],
    draws: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """float32 pixels (0..255) and (N, C) float32 label probabilities; ``alphas`` = (mixup, cutmix)."""
    mixup, cutmix = alphas
    n, height, width, _ = images.shape
    use_cutmix = np.full(n, cutmix is not None) if mixup is None or cutmix is None else draws[:, 0] < 0.5
    lam = np.where(use_cutmix, _beta(cutmix or 1.0, draws[:, 1]), _beta(mixup or 1.0, draws[:, 1]))
    out = images.astype(np.float32)
    other = partners.astype(np.float32)
    weight = lam.astype(np.float32)[:, None, None, None]
    blended = weight * out + (1 - weight) * other
    out = np.where(use_cutmix[:, None, None, None], out, blended)
    boxes = _cut_boxes(height, width, lam, draws[:, 2:4])
    for index in np.flatnonzero(use_cutmix):
        y0, y1, x0, x1 = boxes[index]
        out[index, y0:y1, x0:x1] = other[index, y0:y1, x0:x1]
        lam[index] = 1.0 - (y1 - y0) * (x1 - x0) / (height * width)
    eye = np.eye(num_classes, dtype=np.float64)
    soft = lam[:, None] * eye[labels] + (1.0 - lam[:, None]) * eye[partner_labels]
    return out, soft.astype(np.float32)

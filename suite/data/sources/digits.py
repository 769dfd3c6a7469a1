"""scikit-learn's bundled 8x8 handwritten digits: real data that needs no download."""

from __future__ import annotations

import numpy as np

from suite.data.registry import RawDataset, register_source
from suite.spec.models import DatasetSpec


@register_source("digits", description="scikit-learn's bundled 8x8 digits (1797 images, 10 classes, offline)")
def load_digits_source(spec: DatasetSpec) -> RawDataset:
    """Scikit-learn ``load_digits``: values 0..16 scaled to uint8 0..255, shape (N, 8, 8, 1)."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = np.rint(digits.images * (255.0 / 16.0)).clip(0, 255).astype(np.uint8)[..., None]
    labels = digits.target.astype(np.int64)
    return RawDataset({"train": (images, labels)}, [str(i) for i in range(10)], "sklearn load_digits")

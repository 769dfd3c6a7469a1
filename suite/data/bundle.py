"""The plain arrays every backend trains and tests on."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from suite.data.preprocess import Preprocessing


@dataclass(frozen=True)
class Split:
    """One split: uint8 images in NHWC layout and integer labels."""

    images: np.ndarray
    labels: np.ndarray

    def __post_init__(self) -> None:
        if self.images.dtype != np.uint8 or self.images.ndim != 4:
            raise ValueError(f"images must be uint8 NHWC, got {self.images.dtype} with shape {self.images.shape}")
        if self.labels.ndim != 1 or len(self.labels) != len(self.images):
            raise ValueError(f"labels must be 1-D with one label per image, got shape {self.labels.shape}")

    def __len__(self) -> int:
        return len(self.labels)


@dataclass(frozen=True)
class DataBundle:
    """Train/val/test splits, class names and the preprocessing both runners apply.

    ``preprocessing`` is a :class:`suite.data.preprocess.Preprocessing`; runners call
    ``bundle.preprocessing.apply(images)`` on uint8 batches to get float32 NHWC inputs,
    so PyTorch and Keras see identical numbers.
    """

    train: Split
    val: Split
    test: Split
    class_names: list[str]
    preprocessing: Preprocessing
    source: str = ""
    sample_ids: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def num_classes(self) -> int:
        """Number of classes."""
        return len(self.class_names)

    @property
    def input_shape(self) -> tuple[int, int, int]:
        """Shape (H, W, C) of one preprocessed image."""
        return self.preprocessing.output_shape(self.train.images.shape[1:])

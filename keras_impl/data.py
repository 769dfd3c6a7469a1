"""Model inputs from a DataBundle: preprocessed arrays when they fit in memory, else a streaming PyDataset.

Both paths run ``bundle.preprocessing.apply`` (the suite's one preprocessing function), so the Keras
model sees exactly the float32 NHWC values the torch runner sees.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np

from suite.data.bundle import DataBundle, Split
from suite.data.preprocess import Preprocessing

IN_MEMORY_LIMIT_BYTES = 1.5e9


@dataclass
class SplitInputs:
    """What ``model.fit`` / ``predict`` receive for one split: ``x`` (+ ``y``) arrays, or a PyDataset in ``x``."""

    x: Any
    y: np.ndarray | None
    size: int
    streamed: bool


def float_bytes(data: DataBundle) -> int:
    """Bytes all three splits take as preprocessed float32."""
    height, width, channels = data.input_shape
    return (len(data.train) + len(data.val) + len(data.test)) * height * width * channels * 4


def make_inputs(
    data: DataBundle, split: Split, batch_size: int, *, shuffle: bool, seed: int, workers: int
) -> SplitInputs:
    """Inputs for ``split``: preprocessed once when the whole bundle fits under 1.5 GB, streamed otherwise."""
    labels = split.labels.astype(np.int64)
    if float_bytes(data) <= IN_MEMORY_LIMIT_BYTES:
        return SplitInputs(data.preprocessing.apply(split.images), labels, len(split), streamed=False)
    dataset = StreamedSplit(split, data.preprocessing, batch_size, shuffle=shuffle, seed=seed, workers=workers)
    return SplitInputs(dataset, None, len(split), streamed=True)


class StreamedSplit(keras.utils.PyDataset):
    """Batches preprocessed on the fly (threads when ``workers`` > 1); reshuffled every epoch when training."""

    def __init__(
        self, split: Split, preprocessing: Preprocessing, batch_size: int, *, shuffle: bool, seed: int, workers: int
    ) -> None:
        super().__init__(workers=max(1, workers), use_multiprocessing=False, max_queue_size=max(4, 2 * workers))
        self._split = split
        self._preprocessing = preprocessing
        self._batch_size = batch_size
        self._shuffle = shuffle
        self._rng = np.random.default_rng(seed)
        self._order = self._new_order()

    def _new_order(self) -> np.ndarray:
        indices = np.arange(len(self._split))
        return self._rng.permutation(indices) if self._shuffle else indices

    def __len__(self) -> int:
        return math.ceil(len(self._split) / self._batch_size)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray] | tuple[np.ndarray]:
        rows = np.sort(self._order[index * self._batch_size : (index + 1) * self._batch_size])
        images = self._preprocessing.apply(self._split.images[rows])
        return images, self._split.labels[rows].astype(np.int64)

    def on_epoch_end(self) -> None:
        """Draw a new order for the next epoch."""
        self._order = self._new_order()

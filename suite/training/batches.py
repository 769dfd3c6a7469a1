"""Inputs as float32 NHWC batches in an order the core draws: the same batches for every backend.

The order of training samples in epoch ``e`` is a permutation drawn from ``(seed, e)`` only, so it does not
depend on the framework, the batch size or the number of workers. Splits are preprocessed once when their
float32 form fits under a memory limit, else normalised batch by batch from resized uint8 images.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import numpy as np

from suite.data.bundle import Split
from suite.data.preprocess import Preprocessing

PRELOAD_LIMIT_BYTES = int(1.5 * 2**30)
_ORDER_STREAM = 0x0BA7C4  # separates the batch-order stream from every other use of the seed


def epoch_order(seed: int, epoch: int, size: int) -> np.ndarray:
    """The training-sample order of ``epoch``: a permutation of ``range(size)`` drawn from (seed, epoch)."""
    return np.random.default_rng([seed, epoch, _ORDER_STREAM]).permutation(size)


def order_fingerprint(orders: list[np.ndarray]) -> str:
    """A short hash of every epoch's order: equal in two runs exactly when they saw the same batches."""
    digest = hashlib.sha256()
    for order in orders:
        digest.update(np.asarray(order, dtype=np.int64).tobytes())
    return digest.hexdigest()[:16]


class ArrayInputs:
    """Inputs already in memory (preprocessed images or cached features) with their labels."""

    def __init__(self, inputs: np.ndarray, labels: np.ndarray) -> None:
        self.inputs = inputs
        self.labels = labels.astype(np.int64, copy=False)

    def __len__(self) -> int:
        return len(self.labels)

    def take(self, indices: np.ndarray | slice) -> tuple[np.ndarray, np.ndarray]:
        """The inputs and labels at ``indices``."""
        return self.inputs[indices], self.labels[indices]

    def batches(self, batch_size: int, order: np.ndarray | None = None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Consecutive batches of ``order`` (None: the stored order)."""
        for start in range(0, len(self), batch_size):
            if order is None:
                yield self.take(slice(start, start + batch_size))
            else:
                yield self.take(order[start : start + batch_size])


class StreamedInputs(ArrayInputs):
    """Resized uint8 images kept in memory; each batch is normalised when it is taken."""

    def __init__(self, split: Split, preprocessing: Preprocessing) -> None:
        super().__init__(preprocessing.resize_uint8(split.images), split.labels)
        self.preprocessing = preprocessing

    def take(self, indices: np.ndarray | slice) -> tuple[np.ndarray, np.ndarray]:
        """Normalised float32 inputs and the labels at ``indices``."""
        return self.preprocessing.normalize(self.inputs[indices]), self.labels[indices]


def make_inputs(split: Split, preprocessing: Preprocessing, limit_bytes: int = PRELOAD_LIMIT_BYTES) -> ArrayInputs:
    """Preprocess ``split`` once when its float32 form is under ``limit_bytes``, else stream it."""
    height, width, channels = preprocessing.output_shape(split.images.shape[1:])
    if len(split) * height * width * channels * 4 > limit_bytes:
        return StreamedInputs(split, preprocessing)
    return ArrayInputs(preprocessing.apply(split.images), split.labels)

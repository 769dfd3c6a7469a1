"""Inputs as float32 NHWC batches in an order the core draws: the same batches for every backend.

The order of training samples in epoch ``e`` is a permutation drawn from ``(seed, e)`` only, so it does not
depend on the framework, the batch size or the number of workers. Splits are preprocessed once when their
float32 form fits under a memory limit, else normalised batch by batch from resized uint8 images. With
``dataset.augment``, training batches are augmented by the core (:mod:`suite.augment`) in background threads
while the session trains, and each epoch's batches get a fingerprint (:class:`AugmentedInputs`).
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, TypeVar

import numpy as np

from suite.data.bundle import Split
from suite.data.preprocess import Preprocessing

if TYPE_CHECKING:
    from suite.augment import Augmenter

T = TypeVar("T")

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
    """Inputs already in memory (preprocessed images or cached features) with their labels.

    ``fingerprint`` is the last epoch's batch fingerprint when the inputs record one (None otherwise).
    """

    fingerprint: str | None = None

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

    def epoch_batches(self, batch_size: int, order: np.ndarray, epoch: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """The training batches of ``epoch`` in ``order`` (the same every epoch here)."""
        return self.batches(batch_size, order)


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


class AugmentedInputs(StreamedInputs):
    """Training images augmented afresh every epoch, batches prepared ahead by background threads.

    A sample's augmentation depends on (seed, epoch, sample id) only, so the batches are the same whatever
    the batch size or the number of threads. ``fingerprint`` hashes every sample's inputs and label, in the
    epoch's order: two runs trained on the same augmented batches exactly when their fingerprints agree.
    """

    def __init__(
        self, split: Split, preprocessing: Preprocessing, augmenter: Augmenter, ids: np.ndarray, workers: int = 1
    ) -> None:
        super().__init__(split, preprocessing)
        self.augmenter = augmenter
        self.ids = np.asarray(ids, dtype=np.int64)
        self.workers = max(1, workers)

    def prepare(self, positions: np.ndarray, order: np.ndarray, epoch: int) -> tuple[np.ndarray, np.ndarray, bytes]:
        """Inputs, labels and per-sample digests of the samples at ``positions`` of the epoch's ``order``."""
        if self.augmenter.spec.soft_labels:  # mixup/CutMix pair each sample with the next one in the order
            positions = np.append(positions, (positions[-1] + 1) % len(order))
        indices = order[positions]
        pixels, labels = self.augmenter.batch(self.inputs[indices], self.labels[indices], self.ids[indices], epoch)
        inputs = self.preprocessing.normalize(pixels)
        digests = b"".join(
            hashlib.sha256(inputs[row].tobytes() + labels[row].tobytes()).digest() for row in range(len(inputs))
        )
        return inputs, labels, digests

    def epoch_batches(self, batch_size: int, order: np.ndarray, epoch: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Augmented, normalised batches of ``epoch``; sets ``fingerprint`` once the epoch is consumed."""
        self.fingerprint = None
        starts = range(0, len(order), batch_size)
        tasks = [_bind(self.prepare, np.arange(s, min(s + batch_size, len(order))), order, epoch) for s in starts]
        digest = hashlib.sha256()
        for inputs, labels, digests in prefetched(tasks, self.workers):
            digest.update(digests)
            yield inputs, labels
        self.fingerprint = digest.hexdigest()[:16]


def _bind(function: Callable[..., T], *args: object) -> Callable[[], T]:
    return lambda: function(*args)


def prefetched(tasks: list[Callable[[], T]], workers: int = 1, ahead: int | None = None) -> Iterator[T]:
    """Results of ``tasks`` in order, computed by ``workers`` threads up to ``ahead`` tasks in advance."""
    ahead = ahead or 2 * workers + 1
    pending: deque[Future[T]] = deque()
    queue = iter(tasks)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tlbench-batches") as pool:
        try:
            for task in queue:
                pending.append(pool.submit(task))
                if len(pending) >= ahead:
                    break
            while pending:
                result = pending.popleft().result()
                following = next(queue, None)
                if following is not None:
                    pending.append(pool.submit(following))
                yield result
        finally:
            for future in pending:
                future.cancel()


def make_train_inputs(
    split: Split,
    preprocessing: Preprocessing,
    augmenter: Augmenter | None,
    ids: np.ndarray | None = None,
    workers: int = 1,
) -> ArrayInputs:
    """The training split's inputs: augmented per epoch when ``augmenter`` is given, else :func:`make_inputs`."""
    if augmenter is None:
        return make_inputs(split, preprocessing)
    return AugmentedInputs(split, preprocessing, augmenter, np.arange(len(split)) if ids is None else ids, workers)

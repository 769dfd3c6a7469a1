"""Inputs as float32 NHWC batches in an order the core draws: the same batches for every backend.

The order of training samples in epoch ``e`` is a permutation drawn from ``(seed, e)`` only, so it does not
depend on the framework, the batch size or the number of workers. Splits are preprocessed once when their
float32 form fits under a memory limit, else normalised batch by batch from resized uint8 images. With
``dataset.augment``, training batches are augmented by the core (:mod:`suite.augment`) in background threads
while the session trains, and each epoch's batches get a fingerprint (:class:`AugmentedInputs`).

A session with a device feed (``session.device_feed``, see :class:`~suite.runners.protocol.DeviceFeed`) gets
pixels instead (``pixels=True``): the same resized, augmented images in the same order, as uint8, with the
table of :meth:`~suite.data.preprocess.Preprocessing.pixel_table` the feed normalises them by on its device.
Mixup/CutMix blend pixels into non-integer values, so those training batches stay normalised float32.
:func:`session_batches` is the one place that picks between the two.
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import numpy as np

from suite.data.bundle import Split
from suite.data.preprocess import Preprocessing

if TYPE_CHECKING:
    from suite.augment import Augmenter
    from suite.runners.protocol import TrainingSession

T = TypeVar("T")

PRELOAD_LIMIT_BYTES = int(1.5 * 2**30)
RESIDENT_SHARE = 0.25  # of a device's free memory (at a feed's first request) that resident uint8 splits may take
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

    ``fingerprint`` is the last epoch's batch fingerprint when the inputs record one (None otherwise);
    ``pixels``: batches are pixels for a device feed to normalise (:class:`PixelInputs`); ``static``: the
    batches hold the same values every epoch (a feed may keep ``inputs`` on its device).
    """

    fingerprint: str | None = None
    pixels: bool = False
    static: bool = True

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
        for start in range(0, len(self) if order is None else len(order), batch_size):
            if order is None:
                yield self.take(slice(start, start + batch_size))
            else:
                yield self.take(order[start : start + batch_size])

    def epoch_batches(self, batch_size: int, order: np.ndarray, epoch: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """The training batches of ``epoch`` in ``order`` (the same every epoch here)."""
        return self.batches(batch_size, order)

    def host_batches(
        self, batch_size: int, order: np.ndarray | None, epoch: int | None
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """The CPU batches: of ``epoch`` in ``order`` (training), else evaluation batches."""
        if epoch is not None and order is not None:
            return self.epoch_batches(batch_size, order, epoch)
        return self.batches(batch_size, order)


class StreamedInputs(ArrayInputs):
    """Resized uint8 images kept in memory; each batch is normalised when it is taken."""

    def __init__(self, split: Split, preprocessing: Preprocessing) -> None:
        super().__init__(preprocessing.resize_uint8(split.images), split.labels)
        self.preprocessing = preprocessing

    def take(self, indices: np.ndarray | slice) -> tuple[np.ndarray, np.ndarray]:
        """Normalised float32 inputs and the labels at ``indices``."""
        return self.preprocessing.normalize(self.inputs[indices]), self.labels[indices]


class PixelInputs(StreamedInputs):
    """Resized uint8 images handed to a device feed as they are, with the table it normalises them by."""

    pixels = True

    def take(self, indices: np.ndarray | slice) -> tuple[np.ndarray, np.ndarray]:
        """uint8 NHWC pixels and the labels at ``indices``."""
        return self.inputs[indices], self.labels[indices]

    @property
    def table(self) -> np.ndarray:
        """(256, C) float32 normalised value of every pixel value (:meth:`Preprocessing.pixel_table`)."""
        return self.preprocessing.pixel_table(self.inputs.shape[-1])

    def positions(self, order: np.ndarray | None) -> np.ndarray:
        """The sample indices in the order batches take them (``order``, or the stored order)."""
        return np.arange(len(self)) if order is None else np.asarray(order, dtype=np.int64)


class ResidentSplits(Generic[T]):
    """The device copies of a feed's static pixel splits, within a byte budget fixed at the first request.

    ``budget()`` gives the bytes every resident split may take together (read once, when first needed);
    a split over what is left is not kept (the feed copies its batches one by one instead).
    """

    def __init__(self, budget: Callable[[], int]) -> None:
        self._budget_of = budget
        self._left: int | None = None
        self._held: dict[int, tuple[PixelInputs, T]] = {}

    def get(self, source: PixelInputs, upload: Callable[[np.ndarray, np.ndarray], T]) -> T | None:
        """``upload(pixels, labels)``'s result for ``source``, made once; None when it is not static or too big."""
        if not source.static:
            return None
        held = self._held.get(id(source))
        if held is not None and held[0] is source:
            return held[1]
        if self._left is None:
            self._left = int(self._budget_of())
        if source.inputs.nbytes > self._left:
            return None
        self._left -= source.inputs.nbytes
        copy = upload(np.ascontiguousarray(source.inputs), source.labels)
        self._held[id(source)] = (source, copy)
        return copy

    def clear(self) -> None:
        """Drop every device copy."""
        self._held.clear()


def make_inputs(
    split: Split, preprocessing: Preprocessing, limit_bytes: int = PRELOAD_LIMIT_BYTES, pixels: bool = False
) -> ArrayInputs:
    """Preprocess ``split`` once when its float32 form is under ``limit_bytes``, else stream it.

    With ``pixels`` (a session with a device feed) the split stays resized uint8 (:class:`PixelInputs`).
    """
    if pixels:
        return PixelInputs(split, preprocessing)
    height, width, channels = preprocessing.output_shape(split.images.shape[1:])
    if len(split) * height * width * channels * 4 > limit_bytes:
        return StreamedInputs(split, preprocessing)
    return ArrayInputs(preprocessing.apply(split.images), split.labels)


class AugmentedInputs(PixelInputs):
    """Training images augmented afresh every epoch, batches prepared ahead by background threads.

    A sample's augmentation depends on (seed, epoch, sample id) only, so the batches are the same whatever
    the batch size or the number of threads. ``fingerprint`` hashes every sample's normalised float32 inputs
    and label, in the epoch's order (with ``pixels`` too, so a device feed's run records the same value): two
    runs trained on the same augmented batches exactly when their fingerprints agree.
    """

    static = False

    def __init__(
        self,
        split: Split,
        preprocessing: Preprocessing,
        augmenter: Augmenter,
        ids: np.ndarray,
        workers: int = 1,
        pixels: bool = False,
    ) -> None:
        super().__init__(split, preprocessing)
        self.augmenter = augmenter
        self.ids = np.asarray(ids, dtype=np.int64)
        self.workers = max(1, workers)
        self.pixels = pixels

    def take(self, indices: np.ndarray | slice) -> tuple[np.ndarray, np.ndarray]:
        """The un-augmented inputs and labels at ``indices`` (pixels with ``pixels``, else normalised)."""
        return super().take(indices) if self.pixels else StreamedInputs.take(self, indices)

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
        return (pixels if self.pixels else inputs), labels, digests

    def epoch_batches(self, batch_size: int, order: np.ndarray, epoch: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Augmented batches of ``epoch`` (normalised, or pixels); sets ``fingerprint`` once the epoch is consumed."""
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


def prefetched(tasks: Iterable[Callable[[], T]], workers: int = 1, ahead: int | None = None) -> Iterator[T]:
    """Results of ``tasks`` in order, computed by ``workers`` threads up to ``ahead`` tasks in advance.

    ``tasks`` may be a generator: it is advanced in the calling thread, the tasks run in the pool.
    """
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
    pixels: bool = False,
) -> ArrayInputs:
    """The training split's inputs: augmented per epoch when ``augmenter`` is given, else :func:`make_inputs`."""
    if augmenter is None:
        return make_inputs(split, preprocessing, pixels=pixels)
    ids = np.arange(len(split)) if ids is None else ids
    pixels = pixels and not augmenter.spec.soft_labels  # blended pixels are not uint8
    return AugmentedInputs(split, preprocessing, augmenter, ids, workers, pixels)


def has_device_feed(session: TrainingSession) -> bool:
    """True when ``session`` offers a device feed (it then gets pixel inputs, see the module docstring)."""
    return session.device_feed is not None


def session_batches(
    session: TrainingSession,
    inputs: ArrayInputs,
    batch_size: int,
    order: np.ndarray | None = None,
    epoch: int | None = None,
) -> Iterator[tuple[Any, np.ndarray]]:
    """The batches ``session`` takes: through its device feed for pixel inputs, else the inputs' own.

    ``epoch`` set: the training batches of that epoch in ``order``; None: evaluation batches (``order`` or
    the stored order), which a feed may pad to ``batch_size`` rows (the caller keeps ``len(labels)`` outputs).
    """
    feed = session.device_feed
    if feed is not None and inputs.pixels:
        return feed.batches(inputs, batch_size, order, epoch)
    return inputs.host_batches(batch_size, order, epoch)

"""Model inputs from the core's batches, and the device feed of sessions on an accelerator.

Float32 NHWC numpy goes to Keras as it is, after the model's own ``preprocess_input`` when it has one
(keras.applications backbones fed 0..255 images).

On an accelerator the session offers a :class:`DeviceFeed` (the protocol's ``device_feed``): pixels travel
as uint8 through the engine's own transfer (:func:`keras_impl.environment.to_device`), one batch ahead of
the step, and are normalised on the device by :func:`normalize` with ``keras.ops``, a lookup in the core's
table. A split whose uint8 form fits in the core's ``RESIDENT_SHARE`` of the free device memory, and that
has no per-epoch augmentation, is copied once and each batch is gathered there in the core's order. Evaluation
batches are padded to one shape, so XLA compiles the predict step once.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple

import keras
import numpy as np

from keras_impl import environment
from keras_impl.models.registry import BuiltModel
from suite.training.batches import RESIDENT_SHARE, PixelInputs, ResidentSplits


class DeviceBatch(NamedTuple):
    """Normalised NHWC images already on the engine's device."""

    inputs: Any


def model_input(built: BuiltModel, batch: np.ndarray | DeviceBatch) -> Any:
    """The array ``built.model`` takes for the preprocessed image ``batch`` (a feed's batch as it is)."""
    if isinstance(batch, DeviceBatch):
        return batch.inputs
    batch = np.asarray(batch, dtype=np.float32)
    return built.preprocess(batch) if built.preprocess is not None else batch


def normalize(pixels: Any, table: Any) -> Any:
    """uint8 NHWC pixels -> normalised float32: ``table[x, c]`` (:meth:`Preprocessing.pixel_table`, on the device).

    A lookup, not arithmetic: the values are the CPU path's bit for bit on every engine and device (XLA's
    float32 division on the CPU is not correctly rounded, so the same formula would not be).
    """
    ops = keras.ops
    channels = int(table.shape[1])
    index = ops.add(ops.multiply(ops.cast(pixels, "int32"), channels), ops.arange(channels, dtype="int32"))
    return ops.take(ops.reshape(table, (-1,)), index)


class DeviceFeed:
    """The Keras session's :class:`~suite.runners.protocol.DeviceFeed` (see the module docstring).

    ``resident_bytes``: bytes of uint8 splits that may stay on the device (None: ``RESIDENT_SHARE`` of the
    free memory the engine reports); ``pad_eval``: pad the last evaluation batch to full size.
    """

    def __init__(self, resident_bytes: int | None = None, pad_eval: bool = True) -> None:
        self.pad_eval = pad_eval
        budget = (lambda: resident_bytes) if resident_bytes is not None else _free_share
        self._resident: ResidentSplits[Any] = ResidentSplits(budget)

    def batches(
        self, source: PixelInputs, batch_size: int, order: np.ndarray | None, epoch: int | None
    ) -> Iterator[tuple[DeviceBatch, np.ndarray]]:
        """(device batch, numpy labels) in the core's order: gathered on the device, or moved one batch ahead."""
        table = environment.to_device(source.table)
        pad = batch_size if epoch is None and self.pad_eval else 0
        resident = self._resident.get(source, lambda pixels, _labels: environment.to_device(pixels))
        if resident is not None:
            return self._gathered(resident, source, source.positions(order), batch_size, table, pad)
        return self._streamed(source.host_batches(batch_size, order, epoch), table, pad)

    def release(self) -> None:
        """Drop the resident splits."""
        self._resident.clear()

    def _gathered(
        self, pixels: Any, source: PixelInputs, positions: np.ndarray, batch_size: int, table: Any, pad: int
    ) -> Iterator[tuple[DeviceBatch, np.ndarray]]:
        for start in range(0, len(positions), batch_size):
            rows = positions[start : start + batch_size]
            batch = keras.ops.take(pixels, environment.to_device(rows.astype(np.int32)), axis=0)
            yield self._on_device(batch, table, pad), source.labels[rows]

    def _streamed(
        self, host: Iterator[tuple[np.ndarray, np.ndarray]], table: Any, pad: int
    ) -> Iterator[tuple[DeviceBatch, np.ndarray]]:
        """Each batch is sent (and normalised, asynchronously where the engine is) before the previous one trains."""
        pending: tuple[DeviceBatch, np.ndarray] | None = None
        for pixels, labels in host:
            ready = (self._on_device(environment.to_device(np.ascontiguousarray(pixels)), table, pad), labels)
            if pending is not None:
                yield pending
            pending = ready
        if pending is not None:
            yield pending

    def _on_device(self, pixels: Any, table: Any, pad: int) -> DeviceBatch:
        images = normalize(pixels, table)
        rows = int(images.shape[0])
        if pad > rows:
            padding = keras.ops.zeros((pad - rows, *images.shape[1:]), dtype="float32")
            images = keras.ops.concatenate([images, padding], axis=0)
        return DeviceBatch(images)


def _free_share() -> int:
    return int(environment.device_free_bytes() * RESIDENT_SHARE)

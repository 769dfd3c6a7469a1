"""The core's numpy batches as torch tensors on the training device, and tensors back to numpy.

Images arrive as float32 NHWC arrays and go in as NCHW tensors: a permuted view of an NHWC buffer already
has channels-last strides, so the channels-last layout costs no copy; the standard layout copies on the
device. Cached prefix features arrive in the layout :func:`features_array` gave them (NCHW when 4-D).

On CUDA the session offers a :class:`DeviceFeed` (the protocol's ``device_feed``): pixels travel as uint8
from pinned staging buffers, copied on a side stream one batch ahead of the step (timm's prefetcher
pattern), and are normalised on the GPU by :func:`normalize`, a lookup in the core's table. A split
whose uint8 form fits in the core's ``RESIDENT_SHARE`` of the free device memory, and that has no
per-epoch augmentation, is copied once and each batch is gathered on the device in the core's order.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from typing import NamedTuple

import numpy as np
import torch

from suite.training.batches import RESIDENT_SHARE, PixelInputs, ResidentSplits, prefetched
from torch_impl.precision import Numerics

EVAL_PAD_DEVICES = ("cuda",)  # evaluation batches padded to one shape: a new shape re-runs cuDNN's kernel search


class DeviceBatch(NamedTuple):
    """A batch already on the device: normalised NCHW images (in the numerics' memory format) and labels."""

    inputs: torch.Tensor
    labels: torch.Tensor


def input_tensor(batch: np.ndarray | DeviceBatch, numerics: Numerics, nhwc: bool = True) -> torch.Tensor:
    """``batch`` on the device; 4-D images (``nhwc``) become NCHW in the numerics' memory format."""
    if isinstance(batch, DeviceBatch):
        return batch.inputs.to(numerics.float_dtype)
    tensor = torch.from_numpy(np.ascontiguousarray(batch, dtype=np.float32))
    if tensor.dim() != 4:
        return tensor.to(numerics.device, numerics.float_dtype, non_blocking=True)
    if nhwc:
        tensor = tensor.permute(0, 3, 1, 2)
    tensor = tensor.to(numerics.device, numerics.float_dtype, non_blocking=True)
    return _layout(tensor, numerics)


def batch_tensors(
    inputs: np.ndarray | DeviceBatch, labels: np.ndarray, numerics: Numerics, nhwc: bool = True
) -> tuple[torch.Tensor, torch.Tensor]:
    """(inputs, labels) of one training step on the device, from numpy or from a :class:`DeviceBatch`."""
    if isinstance(inputs, DeviceBatch):
        return inputs.inputs.to(numerics.float_dtype), inputs.labels
    targets = label_tensor(labels, numerics.device)
    if targets.is_floating_point():  # class probabilities follow the logits' dtype (float64 under fp64)
        targets = targets.to(numerics.float_dtype)
    return input_tensor(inputs, numerics, nhwc), targets


def label_tensor(labels: np.ndarray, device: torch.device) -> torch.Tensor:
    """(N,) class indices as int64, or (N, C) class probabilities (mixup/CutMix) as float32, on ``device``."""
    return _label_host(labels).to(device, non_blocking=True)


def features_array(tensor: torch.Tensor) -> np.ndarray:
    """A network output as a float32 numpy array in the standard (NCHW when 4-D) layout."""
    return tensor.detach().float().contiguous().cpu().numpy()


def normalize(pixels: torch.Tensor, table: torch.Tensor) -> torch.Tensor:
    """uint8 NHWC pixels -> normalised float32: ``table[x, c]`` (:meth:`Preprocessing.pixel_table`, on the device).

    A lookup, not arithmetic: the values are the CPU path's bit for bit on any device.
    """
    channels = torch.arange(table.shape[1], device=pixels.device)
    return table[pixels.long(), channels]


class DeviceFeed:
    """The torch session's :class:`~suite.runners.protocol.DeviceFeed` (see the module docstring).

    ``resident_bytes``: how many bytes of uint8 splits may stay on the device (None: ``RESIDENT_SHARE`` of
    the free memory on CUDA, none elsewhere); ``pad_eval``: pad the last evaluation batch to full size.
    """

    def __init__(self, numerics: Numerics, resident_bytes: int | None = None, pad_eval: bool | None = None) -> None:
        self.numerics = numerics
        self.cuda = numerics.device.type == "cuda"
        self.pad_eval = numerics.device.type in EVAL_PAD_DEVICES if pad_eval is None else pad_eval
        self._stream = torch.cuda.Stream(numerics.device) if self.cuda else None
        budget = (lambda: resident_bytes) if resident_bytes is not None else self._free_share
        self._resident: ResidentSplits[tuple[torch.Tensor, torch.Tensor]] = ResidentSplits(budget)

    def batches(
        self, source: PixelInputs, batch_size: int, order: np.ndarray | None, epoch: int | None
    ) -> Iterator[tuple[DeviceBatch, np.ndarray]]:
        """(device batch, numpy labels) in the core's order: gathered on the device, or copied one batch ahead."""
        table = torch.from_numpy(source.table).to(self.numerics.device)
        pad = batch_size if epoch is None and self.pad_eval else 0
        resident = self._resident.get(source, self._upload)
        if resident is not None:
            return self._gathered(resident, source, source.positions(order), batch_size, table, pad)
        return self._streamed(source.host_batches(batch_size, order, epoch), table, pad)

    def release(self) -> None:
        """Drop the resident splits."""
        self._resident.clear()

    def _free_share(self) -> int:
        return int(torch.cuda.mem_get_info(self.numerics.device)[0] * RESIDENT_SHARE) if self.cuda else 0

    def _upload(self, pixels: np.ndarray, labels: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        device = self.numerics.device
        return torch.from_numpy(pixels).to(device), _label_host(labels).to(device)

    def _gathered(
        self,
        resident: tuple[torch.Tensor, torch.Tensor],
        source: PixelInputs,
        positions: np.ndarray,
        batch_size: int,
        table: torch.Tensor,
        pad: int,
    ) -> Iterator[tuple[DeviceBatch, np.ndarray]]:
        pixels, labels = resident
        for start in range(0, len(positions), batch_size):
            rows = positions[start : start + batch_size]
            index = torch.from_numpy(rows).to(self.numerics.device, non_blocking=True)
            batch = self._on_device(pixels.index_select(0, index), labels.index_select(0, index), table, pad)
            yield batch, source.labels[rows]

    def _streamed(
        self, host: Iterator[tuple[np.ndarray, np.ndarray]], table: torch.Tensor, pad: int
    ) -> Iterator[tuple[DeviceBatch, np.ndarray]]:
        """Pinned host batches (staged by a thread) copied on the side stream while the previous batch trains."""
        tasks = (functools.partial(stage, pixels, labels, self.cuda) for pixels, labels in host)
        staged = prefetched(tasks, workers=1, ahead=2)
        pending: tuple[DeviceBatch, np.ndarray] | None = None
        for pixels, labels, numpy_labels in staged:
            with torch.cuda.stream(self._stream) if self._stream is not None else contextlib.nullcontext():
                device = self.numerics.device
                moved = (pixels.to(device, non_blocking=True), labels.to(device, non_blocking=True))
                ready = self._on_device(*moved, table, pad)
            if pending is not None:
                yield pending
            pending = (self._handed_over(ready), numpy_labels)
        if pending is not None:
            yield pending

    def _on_device(self, pixels: torch.Tensor, labels: torch.Tensor, table: torch.Tensor, pad: int) -> DeviceBatch:
        images = normalize(pixels, table).permute(0, 3, 1, 2)
        if pad > len(images):
            images = torch.cat([images, images.new_zeros((pad - len(images), *images.shape[1:]))])
        return DeviceBatch(_layout(images, self.numerics), labels)

    def _handed_over(self, batch: DeviceBatch) -> DeviceBatch:
        """Make the step's stream wait for the side stream's copy, and keep the memory alive for that stream."""
        if self._stream is None:
            return batch
        current = torch.cuda.current_stream(self.numerics.device)
        current.wait_stream(self._stream)
        batch.inputs.record_stream(current)
        batch.labels.record_stream(current)
        return batch


def stage(pixels: np.ndarray, labels: np.ndarray, pin: bool) -> tuple[torch.Tensor, torch.Tensor, np.ndarray]:
    """One host batch as (pinned, with ``pin``) tensors ready for a non-blocking copy, and the numpy labels."""
    images, targets = torch.from_numpy(np.ascontiguousarray(pixels)), _label_host(labels)
    if pin:
        images, targets = images.pin_memory(), targets.pin_memory()
    return images, targets, labels


def _label_host(labels: np.ndarray) -> torch.Tensor:
    dtype = np.int64 if labels.ndim == 1 else np.float32
    return torch.from_numpy(np.ascontiguousarray(labels, dtype=dtype))


def _layout(tensor: torch.Tensor, numerics: Numerics) -> torch.Tensor:
    return tensor.contiguous(memory_format=torch.channels_last if numerics.channels_last else torch.contiguous_format)

"""Splits as tensors: preprocessed once when they fit in memory, else normalised batch by batch.

Both paths call :class:`suite.data.preprocess.Preprocessing`, so inputs are identical to the
Keras runner's. Batches come out NCHW (optionally channels-last) on the training device.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch
from torch.utils.data import BatchSampler, DataLoader, Dataset, SequentialSampler

from suite.data.bundle import Split
from suite.data.preprocess import Preprocessing

PRELOAD_LIMIT_BYTES = int(1.5 * 2**30)
Batch = tuple[torch.Tensor, torch.Tensor]


def _to_nchw(images: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(images.transpose(0, 3, 1, 2)))


class TensorSplit:
    """Inputs and labels already in memory (images, or cached features) served in batches."""

    def __init__(self, inputs: torch.Tensor, labels: torch.Tensor, device: torch.device, channels_last: bool) -> None:
        self.inputs = inputs
        self.labels = labels
        self.device = device
        self.channels_last = channels_last and inputs.dim() == 4

    def __len__(self) -> int:
        return len(self.labels)

    def batches(self, batch_size: int, generator: torch.Generator | None = None) -> Iterator[Batch]:
        """Batches in order, or shuffled by ``generator``."""
        order = torch.randperm(len(self), generator=generator) if generator is not None else None
        for start in range(0, len(self), batch_size):
            if order is None:
                inputs, labels = self.inputs[start : start + batch_size], self.labels[start : start + batch_size]
            else:
                index = order[start : start + batch_size].to(self.inputs.device)
                inputs, labels = self.inputs[index], self.labels[index]
            yield _to_device(inputs, labels, self.device, self.channels_last)


class _UInt8Batches(Dataset):
    """Dataset indexed by a list of sample indices: returns one normalised batch."""

    def __init__(self, images: np.ndarray, labels: np.ndarray, preprocessing: Preprocessing) -> None:
        self.images, self.labels, self.preprocessing = images, labels, preprocessing

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, indices: list[int]) -> Batch:
        index = np.asarray(indices)
        batch = self.preprocessing.normalize(self.images[index])
        return _to_nchw(batch), torch.from_numpy(self.labels[index])


class StreamingSplit:
    """Resized uint8 images kept in memory; each batch is normalised on the fly (optionally by workers)."""

    def __init__(
        self, split: Split, preprocessing: Preprocessing, device: torch.device, channels_last: bool, num_workers: int
    ) -> None:
        self.dataset = _UInt8Batches(
            preprocessing.resize_uint8(split.images), split.labels.astype(np.int64), preprocessing
        )
        self.device, self.channels_last, self.num_workers = device, channels_last, num_workers

    def __len__(self) -> int:
        return len(self.dataset)

    def batches(self, batch_size: int, generator: torch.Generator | None = None) -> Iterator[Batch]:
        """Batches in order, or shuffled by ``generator`` (the order is drawn here, not in workers)."""
        if generator is not None:
            sampler: list[int] | SequentialSampler = torch.randperm(len(self), generator=generator).tolist()
        else:
            sampler = SequentialSampler(range(len(self)))
        loader = DataLoader(
            self.dataset,
            sampler=BatchSampler(sampler, batch_size, drop_last=False),
            batch_size=None,
            num_workers=self.num_workers,
            pin_memory=self.device.type == "cuda",
            generator=torch.Generator().manual_seed(0),  # keeps the loader off the global RNG (dropout masks)
        )
        for inputs, labels in loader:
            yield _to_device(inputs, labels, self.device, self.channels_last)


def _to_device(inputs: torch.Tensor, labels: torch.Tensor, device: torch.device, channels_last: bool) -> Batch:
    inputs = inputs.to(device, non_blocking=True)
    if channels_last:
        inputs = inputs.contiguous(memory_format=torch.channels_last)
    return inputs, labels.to(device, non_blocking=True)


def make_split(
    split: Split,
    preprocessing: Preprocessing,
    device: torch.device,
    channels_last: bool,
    num_workers: int,
    preload_limit: int = PRELOAD_LIMIT_BYTES,
) -> TensorSplit | StreamingSplit:
    """Preprocess ``split`` once when its float32 form is under ``preload_limit`` bytes, else stream it."""
    height, width, channels = preprocessing.output_shape(split.images.shape[1:])
    float_bytes = len(split) * height * width * channels * 4
    if float_bytes > preload_limit:
        return StreamingSplit(split, preprocessing, device, channels_last, num_workers)
    inputs = _to_nchw(preprocessing.apply(split.images))
    labels = torch.from_numpy(split.labels.astype(np.int64))
    if device.type == "cuda":
        inputs, labels = inputs.to(device), labels.to(device)
    return TensorSplit(inputs, labels, device, channels_last)

"""Resize, channel conversion and normalisation, written once and applied by every runner."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

NORMALIZATION_STATS: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {
    "none": ((0.0,), (1.0 / 255.0,)),  # raw 0..255 floats
    "unit": ((0.0,), (1.0,)),  # x / 255
    "half": ((0.5,), (0.5,)),  # (x / 255 - 0.5) / 0.5
    "imagenet": ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
}


@dataclass(frozen=True)
class Preprocessing:
    """uint8 NHWC batch -> float32 NHWC batch: resize (bilinear), set channels, normalise.

    ``(x / 255 - mean) / std`` per channel. The same function runs in both runners, so a
    PyTorch and a Keras run of one spec see bit-identical inputs.
    """

    image_size: int | None = None
    channels: int | None = None
    normalization: str = "unit"

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, int, int]:
        """(H, W, C) produced for inputs of ``input_shape`` (H, W, C)."""
        height, width, channels = input_shape
        if self.image_size is not None:
            height = width = self.image_size
        return (height, width, self.channels or channels)

    def resize_uint8(self, images: np.ndarray) -> np.ndarray:
        """Resize and convert channels, staying in uint8 (cheap to cache)."""
        images = _convert_channels(images, self.channels)
        if self.image_size is None or images.shape[1:3] == (self.image_size, self.image_size):
            return images
        return np.stack([_resize_one(image, self.image_size) for image in images])

    def pixel_table(self, channels: int) -> np.ndarray:
        """(256, ``channels``) float32: row ``v`` is :meth:`normalize` of the pixel value ``v`` in each channel.

        A device-side feed normalises uint8 pixels by looking them up here (``table[x, c]``), so its batch is
        bitwise the CPU path's on every device: the arithmetic is this class's, done once for each value.
        """
        values = np.repeat(np.arange(256, dtype=np.uint8)[:, None], channels, axis=1)
        return self.normalize(values)

    def normalize(self, images: np.ndarray) -> np.ndarray:
        """uint8 (already resized) -> normalised float32."""
        mean, std = _stats(self.normalization, images.shape[-1])
        out = images.astype(np.float32) / np.float32(255.0)
        out -= mean
        out /= std
        return out

    def apply(self, images: np.ndarray) -> np.ndarray:
        """Full pipeline on a uint8 NHWC batch."""
        return self.normalize(self.resize_uint8(images))


def _stats(normalization: str, channels: int) -> tuple[np.ndarray, np.ndarray]:
    mean, std = NORMALIZATION_STATS[normalization]
    if len(mean) != channels:
        mean = (float(np.mean(mean)),) * channels
        std = (float(np.mean(std)),) * channels
    return np.asarray(mean, dtype=np.float32), np.asarray(std, dtype=np.float32)


def _convert_channels(images: np.ndarray, channels: int | None) -> np.ndarray:
    current = images.shape[-1]
    if channels is None or channels == current:
        return images
    if current == 1 and channels == 3:
        return np.repeat(images, 3, axis=-1)
    if current == 3 and channels == 1:
        weights = np.asarray([0.299, 0.587, 0.114], dtype=np.float32)  # ITU-R 601-2, as PIL "L"
        return np.rint(images.astype(np.float32) @ weights)[..., None].clip(0, 255).astype(np.uint8)
    raise ValueError(f"cannot convert {current} channels to {channels}")


def _resize_one(image: np.ndarray, size: int) -> np.ndarray:
    squeeze = image.shape[-1] == 1
    pil = Image.fromarray(image[..., 0] if squeeze else image)
    resized = np.asarray(pil.resize((size, size), Image.BILINEAR))
    return resized[..., None] if squeeze else resized

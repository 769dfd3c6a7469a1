"""Decode image files (paths or encoded bytes) into one uint8 NHWC array.

Shared by the ``folder`` and ``hf`` sources. Images become RGB unless every image is
grayscale (then one channel), as torchvision's ``ImageFolder`` + ``convert`` would do.
Images of different sizes need ``image_size``: they are resized at load time with the very
resize that :class:`~suite.data.preprocess.Preprocessing` applies to batches.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from suite.data.preprocess import Preprocessing

ImageItem = Path | bytes
_GRAY_MODES = {"1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F"}
_SIXTEEN_BIT_MODES = {"I;16", "I;16B", "I;16L"}


def _open(item: ImageItem) -> Image.Image:
    source = io.BytesIO(item) if isinstance(item, bytes) else item
    try:
        return Image.open(source)
    except (OSError, ValueError) as error:
        name = "<bytes>" if isinstance(item, bytes) else str(item)
        raise ValueError(f"cannot read image {name}: {error}") from error


def _probe(items: Sequence[ImageItem]) -> tuple[bool, set[tuple[int, int]]]:
    """(all grayscale, set of (width, height)) from the headers only (no pixel decoding)."""
    all_gray, sizes = True, set()
    for item in items:
        with _open(item) as image:
            all_gray = all_gray and image.mode in _GRAY_MODES
            sizes.add(image.size)
    return all_gray, sizes


def _to_array(image: Image.Image, gray: bool) -> np.ndarray:
    if gray and image.mode in _SIXTEEN_BIT_MODES:
        pixels = np.rint(np.asarray(image, dtype=np.float64) * (255.0 / 65535.0)).astype(np.uint8)
    else:
        pixels = np.asarray(image.convert("L" if gray else "RGB"), dtype=np.uint8)
    return pixels[..., None] if gray else pixels


def decode_images(items: Sequence[ImageItem], image_size: int | None, what: str) -> np.ndarray:
    """Decode ``items`` into a uint8 (N, H, W, C) array; ``what`` names the images in error messages."""
    if not items:
        raise ValueError(f"no images found in {what}")
    all_gray, sizes = _probe(items)
    resize = None
    if len(sizes) > 1:
        if image_size is None:
            examples = ", ".join(f"{w}x{h}" for w, h in sorted(sizes)[:5])
            raise ValueError(
                f"images in {what} have {len(sizes)} different sizes ({examples}, ...); "
                "set dataset.image_size so they can be resized to one size"
            )
        resize = Preprocessing(image_size=image_size)
    out: list[np.ndarray] = []
    for item in items:
        with _open(item) as image:
            pixels = _to_array(image, all_gray)
        out.append(resize.resize_uint8(pixels[None])[0] if resize else pixels)
    return np.stack(out)

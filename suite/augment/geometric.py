"""Geometric augmentations: padded crop, random-resized crop, flips, rotation and translation.

Parameters are drawn per sample from :func:`suite.augment.keyed.uniforms`; the pixel work is OpenCV's
(``cv2.resize`` and ``cv2.warpAffine``, bilinear, zeros outside the image) or plain numpy indexing.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from suite.spec.models import ResizedCropSpec

RRC_ATTEMPTS = 10  # torchvision's RandomResizedCrop tries ten boxes before its central fallback


def padded_crop(images: np.ndarray, padding: int, draws: np.ndarray) -> np.ndarray:
    """Pad with zeros by ``padding`` and cut a window of the original size at offsets from ``draws[:, :2]``."""
    n, height, width, _ = images.shape
    padded = np.pad(images, ((0, 0), (padding, padding), (padding, padding), (0, 0)))
    dy = np.floor(draws[:, 0] * (2 * padding + 1)).astype(np.int64)
    dx = np.floor(draws[:, 1] * (2 * padding + 1)).astype(np.int64)
    out = np.empty_like(images)
    for index in range(n):
        out[index] = padded[index, dy[index] : dy[index] + height, dx[index] : dx[index] + width]
    return out


def flip(images: np.ndarray, mode: str, draws: np.ndarray) -> np.ndarray:
    """Flip each image left-right (``draws[:, 0] < 0.5``) and/or top-bottom (``draws[:, 1] < 0.5``)."""
    out = images.copy()
    horizontal = (draws[:, 0] < 0.5) & (mode in ("horizontal", "both"))
    vertical = (draws[:, 1] < 0.5) & (mode in ("vertical", "both"))
    for index in np.flatnonzero(horizontal | vertical):
        image = out[index]
        if horizontal[index]:
            image = image[:, ::-1]
        if vertical[index]:
            image = image[::-1]
        out[index] = image.copy()
    return out


def resized_crop_boxes(height: int, width: int, spec: ResizedCropSpec, draws: np.ndarray) -> np.ndarray:
    """(N, 4) boxes ``top, left, h, w`` drawn as torchvision's RandomResizedCrop does (10 tries, then central)."""
    tries = draws[:, : 4 * RRC_ATTEMPTS].reshape(len(draws), RRC_ATTEMPTS, 4)
    area = height * width * (spec.scale[0] + tries[..., 0] * (spec.scale[1] - spec.scale[0]))
    low, high = math.log(spec.ratio[0]), math.log(spec.ratio[1])
    aspect = np.exp(low + tries[..., 1] * (high - low))
    box_w = np.rint(np.sqrt(area * aspect)).astype(np.int64)
    box_h = np.rint(np.sqrt(area / aspect)).astype(np.int64)
    valid = (box_w > 0) & (box_w <= width) & (box_h > 0) & (box_h <= height)
    first = np.argmax(valid, axis=1)
    rows = np.arange(len(draws))
    h, w = box_h[rows, first], box_w[rows, first]
    top = np.floor(tries[rows, first, 2] * (height - h + 1)).astype(np.int64)
    left = np.floor(tries[rows, first, 3] * (width - w + 1)).astype(np.int64)
    boxes = np.stack([top, left, h, w], axis=1)
    boxes[~valid.any(axis=1)] = _central_box(height, width, spec.ratio)
    return boxes


def _central_box(height: int, width: int, ratio: tuple[float, float]) -> np.ndarray:
    in_ratio = width / height
    h, w = height, width
    if in_ratio < ratio[0]:
        h = int(round(width / ratio[0]))
    elif in_ratio > ratio[1]:
        w = int(round(height * ratio[1]))
    return np.asarray([(height - h) // 2, (width - w) // 2, h, w])


def resized_crop(images: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Cut each box and resize it (bilinear) back to the image size."""
    n, height, width, channels = images.shape
    out = np.empty_like(images)
    for index, (top, left, h, w) in enumerate(boxes):
        patch = images[index, top : top + h, left : left + w]
        resized = cv2.resize(patch, (width, height), interpolation=cv2.INTER_LINEAR)
        out[index] = resized.reshape(height, width, channels)
    return out


def affine(images: np.ndarray, rotation: float | None, translate: float | None, draws: np.ndarray) -> np.ndarray:
    """Rotate by up to ``rotation`` degrees about the centre and shift by up to ``translate`` x the size."""
    n, height, width, channels = images.shape
    angles = (2 * draws[:, 0] - 1) * (rotation or 0.0)
    shift_x = np.rint((2 * draws[:, 1] - 1) * (translate or 0.0) * width)
    shift_y = np.rint((2 * draws[:, 2] - 1) * (translate or 0.0) * height)
    matrices = _rotation_matrices(angles, ((width - 1) / 2, (height - 1) / 2))
    matrices[:, :, 2] += np.stack([shift_x, shift_y], axis=1)
    out = np.empty_like(images)
    for index in range(n):
        warped = cv2.warpAffine(
            images[index], matrices[index], (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT
        )
        out[index] = warped.reshape(height, width, channels)
    return out


def _rotation_matrices(degrees: np.ndarray, centre: tuple[float, float]) -> np.ndarray:
    """(N, 2, 3) matrices of ``cv2.getRotationMatrix2D(centre, angle, 1)`` (counter-clockwise degrees)."""
    radians = np.deg2rad(degrees)
    cos, sin = np.cos(radians), np.sin(radians)
    cx, cy = centre
    first = np.stack([cos, sin, (1 - cos) * cx - sin * cy], axis=1)
    second = np.stack([-sin, cos, sin * cx + (1 - cos) * cy], axis=1)
    return np.stack([first, second], axis=1)

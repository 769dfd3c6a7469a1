"""The augmentation pipeline of a spec: crop, flip, rotation/translation, colour, then mixup/CutMix."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from suite.augment import color, geometric, mixing
from suite.augment.keyed import uniforms
from suite.spec.models import AugmentSpec

# One stream per operation: turning one augmentation on or off leaves the others' draws unchanged.
STREAMS = {"crop": 0xC0, "resized_crop": 0xC1, "flip": 0xF1, "affine": 0xAF, "color": 0xC7, "mix": 0x31}


@dataclass(frozen=True)
class Augmenter:
    """Applies ``spec`` to training batches; every draw is keyed by (seed, epoch, sample id)."""

    spec: AugmentSpec
    seed: int
    num_classes: int

    def _draws(self, name: str, epoch: int, ids: np.ndarray, count: int) -> np.ndarray:
        return uniforms(self.seed, epoch, ids, STREAMS[name], count)

    def images(self, images: np.ndarray, ids: np.ndarray, epoch: int) -> np.ndarray:
        """Per-sample pixel augmentations of a uint8 NHWC batch (the result is uint8 too)."""
        spec, out = self.spec, images
        if spec.crop is not None:
            out = geometric.padded_crop(out, spec.crop.padding, self._draws("crop", epoch, ids, 2))
        if spec.random_resized_crop is not None:
            draws = self._draws("resized_crop", epoch, ids, 4 * geometric.RRC_ATTEMPTS)
            boxes = geometric.resized_crop_boxes(out.shape[1], out.shape[2], spec.random_resized_crop, draws)
            out = geometric.resized_crop(out, boxes)
        if spec.flip is not None:
            out = geometric.flip(out, spec.flip, self._draws("flip", epoch, ids, 2))
        if spec.rotation is not None or spec.translate is not None:
            out = geometric.affine(out, spec.rotation, spec.translate, self._draws("affine", epoch, ids, 3))
        if spec.color_jitter is not None:
            out = color.color_jitter(out, spec.color_jitter, self._draws("color", epoch, ids, 3))
        return out

    def batch(
        self, images: np.ndarray, labels: np.ndarray, ids: np.ndarray, epoch: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Augmented pixels and labels for one batch.

        Without mixup/CutMix: uint8 images and the int64 labels. With them, ``images``/``labels``/``ids``
        carry one extra sample at the end (the next one in the epoch's order) and the result is float32
        pixels (0..255) with (N, C) float32 label probabilities.
        """
        augmented = self.images(images, ids, epoch)
        if not self.spec.soft_labels:
            return augmented, labels
        draws = self._draws("mix", epoch, ids[:-1], 4)
        alphas = (self.spec.mixup, self.spec.cutmix)
        return mixing.mix(augmented[:-1], augmented[1:], labels[:-1], labels[1:], self.num_classes, alphas, draws)

    def describe(self) -> dict[str, object]:
        """Plain-data summary for result.json."""
        return {
            "spec": self.spec.model_dump(mode="json", exclude_none=True),
            "random_stream": "suite.augment.keyed: SplitMix64 keyed by (seed, epoch, sample id, operation)",
            "pixels": "OpenCV (resize, warpAffine) and numpy",
        }

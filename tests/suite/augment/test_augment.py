"""The core's augmentation: keyed random numbers, each operation, mixup/CutMix soft labels."""

import numpy as np
import pytest
from builders import EVERY_AUGMENTATION

from suite.augment import Augmenter
from suite.augment.keyed import uniforms
from suite.spec.models import AugmentSpec, ColorJitterSpec

EVERYTHING = {**EVERY_AUGMENTATION, "crop": {"padding": 4}}


def _images(n: int = 12, size: int = 16, channels: int = 3, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, size, size, channels), dtype=np.uint8)


def _augmenter(**spec) -> Augmenter:
    return Augmenter(AugmentSpec.model_validate(spec), seed=7, num_classes=10)


def test_draws_depend_on_seed_epoch_id_and_stream_only() -> None:
    ids = np.arange(100, 140)
    draws = uniforms(1, 2, ids, 3, 5)
    assert draws.shape == (40, 5) and draws.min() >= 0 and draws.max() < 1
    np.testing.assert_array_equal(draws[7:9], uniforms(1, 2, ids[7:9], 3, 5))  # one sample alone: same numbers
    for other in (uniforms(0, 2, ids, 3, 5), uniforms(1, 3, ids, 3, 5), uniforms(1, 2, ids, 4, 5)):
        assert not np.any(np.isclose(other, draws))
    many = uniforms(0, 0, np.arange(20000), 0, 1)[:, 0]
    assert abs(many.mean() - 0.5) < 0.01 and abs(many.std() - (1 / 12) ** 0.5) < 0.01


def test_horizontal_flip_flips_about_half_and_nothing_else() -> None:
    images = _images(200)
    out = _augmenter(flip="horizontal").images(images, np.arange(200), epoch=0)
    flipped = np.array([np.array_equal(o, i[:, ::-1]) for o, i in zip(out, images, strict=True)])
    kept = np.array([np.array_equal(o, i) for o, i in zip(out, images, strict=True)])
    assert np.all(flipped | kept) and 70 < flipped.sum() < 130


def test_padded_crop_shifts_within_the_padding() -> None:
    images = _images(50, size=12)
    out = _augmenter(crop={"padding": 2}).images(images, np.arange(50), epoch=0)
    assert out.shape == images.shape and out.dtype == np.uint8
    padded = np.pad(images, ((0, 0), (2, 2), (2, 2), (0, 0)))
    for o, p in zip(out, padded, strict=True):
        assert any(np.array_equal(o, p[dy : dy + 12, dx : dx + 12]) for dy in range(5) for dx in range(5))


def test_random_resized_crop_boxes_are_inside_and_follow_scale() -> None:
    from suite.augment.geometric import resized_crop_boxes
    from suite.spec.models import ResizedCropSpec

    spec = ResizedCropSpec(scale=(0.25, 0.5), ratio=(0.75, 1.333))
    boxes = resized_crop_boxes(64, 48, spec, uniforms(0, 0, np.arange(500), 1, 40))
    top, left, h, w = boxes.T
    assert np.all(top >= 0) and np.all(left >= 0) and np.all(top + h <= 64) and np.all(left + w <= 48)
    assert np.all(h * w >= 0.2 * 64 * 48) and np.all(h * w <= 0.55 * 64 * 48)
    out = _augmenter(random_resized_crop={}).images(_images(5, size=32), np.arange(5), epoch=0)
    assert out.shape == (5, 32, 32, 3)


def test_affine_keeps_a_centred_disc_under_small_rotation() -> None:
    image = np.zeros((1, 33, 33, 1), dtype=np.uint8)
    image[0, 12:21, 12:21] = 255
    out = _augmenter(rotation=5).images(image, np.arange(1), epoch=0)
    assert out[0, 16, 16, 0] == 255 and out[0, 0, 0, 0] == 0
    shifted = _augmenter(translate=0.25).images(np.repeat(image, 30, 0), np.arange(30), epoch=0)
    assert len({int(np.argmax(s[:, :, 0].sum(0) > 0)) for s in shifted}) > 3  # left edges move


def test_color_jitter_is_the_identity_at_strength_zero_and_gray_stays_gray() -> None:
    from suite.augment.color import color_jitter

    images = _images(8)
    draws = uniforms(0, 0, np.arange(8), 0, 3)
    np.testing.assert_array_equal(color_jitter(images, ColorJitterSpec(), draws), images)
    gray = np.repeat(images[..., :1], 3, axis=-1)
    jittered = color_jitter(gray, ColorJitterSpec(brightness=0.3, contrast=0.3, saturation=0.5), draws)
    assert np.abs(jittered.astype(int) - jittered[..., :1]).max() <= 1
    assert not np.array_equal(jittered, gray)


def test_mixup_and_cutmix_make_probabilities_from_the_pair() -> None:
    images, labels = _images(13), np.arange(13) % 10
    pixels, soft = _augmenter(mixup=0.4, cutmix=1.0).batch(images, labels, np.arange(13), epoch=0)
    assert pixels.shape == (12, 16, 16, 3) and pixels.dtype == np.float32
    assert soft.shape == (12, 10) and soft.dtype == np.float32
    np.testing.assert_allclose(soft.sum(1), 1.0, rtol=1e-6)
    for row, (a, b) in enumerate(zip(labels[:-1], labels[1:], strict=True)):
        assert set(np.flatnonzero(soft[row] > 1e-6)) <= {a, b}


def test_cutmix_label_weight_is_the_area_kept() -> None:
    images = np.zeros((41, 10, 10, 1), dtype=np.uint8)
    images[1::2] = 255  # each sample's partner has the other colour
    labels = np.arange(41) % 2
    pixels, soft = _augmenter(cutmix=1.0).batch(images, labels, np.arange(41), epoch=3)
    own = np.where(labels[:-1, None, None, None] == 0, pixels == 0, pixels == 255).mean(axis=(1, 2, 3))
    np.testing.assert_allclose(soft[np.arange(40), labels[:-1]], own, atol=1e-6)


@pytest.mark.parametrize("channels", [1, 3])
def test_everything_on_is_deterministic_and_changes_with_the_epoch(channels: int) -> None:
    augmenter = _augmenter(**EVERYTHING)
    images, labels, ids = _images(9, channels=channels), np.arange(9) % 10, np.arange(9) * 3
    first = augmenter.batch(images, labels, ids, epoch=0)
    again = augmenter.batch(images, labels, ids, epoch=0)
    later = augmenter.batch(images, labels, ids, epoch=1)
    np.testing.assert_array_equal(first[0], again[0])
    np.testing.assert_array_equal(first[1], again[1])
    assert not np.array_equal(first[0], later[0])


def test_spec_rejects_two_crops_and_reports_activity() -> None:
    with pytest.raises(ValueError, match="crop or random_resized_crop"):
        AugmentSpec.model_validate({"crop": {"padding": 4}, "random_resized_crop": {}})
    assert not AugmentSpec().active and AugmentSpec(flip="horizontal").active
    assert AugmentSpec(mixup=0.2).soft_labels and not AugmentSpec(flip="vertical").soft_labels

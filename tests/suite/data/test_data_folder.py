"""ImageFolder directories of real PNG/JPEG files, flat or with published split directories."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from suite.data.loading import load_bundle
from suite.data.preprocess import Preprocessing
from suite.data.sources.folder import load_folder
from suite.spec.models import DatasetSpec


def _spec(path: Path, **overrides: object) -> DatasetSpec:
    return DatasetSpec(source="folder", path=str(path), **overrides)


def _flat_folder(root: Path, helpers, per_class: int = 6, size: tuple[int, int] = (12, 10)) -> None:  # noqa: ANN001
    for label, name in enumerate(["zebra", "ant", "moth"]):
        for i in range(per_class):
            helpers.write_png(root / name / f"{i:02d}.png", size, "RGB", value=40 * label + i)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """The dataset directory (tmp_path itself also holds the fake caches)."""
    path = tmp_path / "dataset"
    path.mkdir()
    return path


def test_flat_folder_classes_are_sorted_directory_names(root: Path, helpers) -> None:  # noqa: ANN001
    _flat_folder(root, helpers)
    (root / "ant" / "notes.txt").write_text("not an image")
    helpers.write_png(root / "ant" / ".hidden" / "x.png", (12, 10))
    raw = load_folder(_spec(root))
    assert raw.class_names == ["ant", "moth", "zebra"] and list(raw.splits) == ["train"]
    images, labels = raw.splits["train"]
    assert images.shape == (18, 10, 12, 3)  # (N, height, width, RGB)
    assert labels.tolist() == [0] * 6 + [1] * 6 + [2] * 6
    assert images[0, 0, 0].tolist() == [40, 40, 40]  # ant/00.png was written with value 40 * 1 + 0
    assert images[12, 0, 0].tolist() == [0, 0, 0]  # zebra/00.png


def test_flat_folder_goes_through_load_bundle(root: Path, helpers) -> None:  # noqa: ANN001
    _flat_folder(root, helpers, per_class=10)
    bundle = load_bundle(_spec(root, split={"val": 0.2, "test": 0.2}, image_size=32), seed=0)
    assert (len(bundle.train), len(bundle.val), len(bundle.test)) == (18, 6, 6)
    assert bundle.input_shape == (32, 32, 3) and bundle.train.images.shape[1:] == (10, 12, 3)


def test_published_split_directories_are_used(root: Path, helpers) -> None:  # noqa: ANN001
    for split, count in [("train", 4), ("validation", 2), ("test", 3)]:
        for name in ("cat", "dog"):
            for i in range(count):
                helpers.write_png(root / split / name / f"{i}.jpg", (8, 8), "RGB", value=100)
    raw = load_folder(_spec(root))
    assert raw.class_names == ["cat", "dog"]
    assert {name: len(labels) for name, (_, labels) in raw.splits.items()} == {"train": 8, "val": 4, "test": 6}
    bundle = load_bundle(_spec(root), seed=0)
    assert (len(bundle.train), len(bundle.val), len(bundle.test)) == (8, 4, 6)
    np.testing.assert_array_equal(bundle.sample_ids["val"], np.arange(8, 12))


def test_mixed_sizes_need_image_size(root: Path, helpers) -> None:  # noqa: ANN001
    helpers.write_png(root / "a" / "big.png", (40, 30))
    helpers.write_png(root / "b" / "small.png", (20, 20))
    with pytest.raises(ValueError, match="2 different sizes.*set dataset.image_size"):
        load_folder(_spec(root))


def test_mixed_sizes_are_resized_with_the_preprocessing_resize(root: Path, helpers) -> None:  # noqa: ANN001
    rng = np.random.default_rng(0)
    big = rng.integers(0, 256, (30, 40, 3), dtype=np.uint8)
    (root / "a").mkdir()
    Image.fromarray(big).save(root / "a" / "big.png")
    helpers.write_png(root / "b" / "small.png", (20, 20), value=9)
    images, _ = load_folder(_spec(root, image_size=16)).splits["train"]
    assert images.shape == (2, 16, 16, 3)
    np.testing.assert_array_equal(images[0], Preprocessing(image_size=16).resize_uint8(big[None])[0])
    assert (images[1] == 9).all()


def test_all_grayscale_stays_one_channel(root: Path, helpers) -> None:  # noqa: ANN001
    for name in ("x", "y"):
        helpers.write_png(root / name / "0.png", (8, 8), "L", value=77)
    images, _ = load_folder(_spec(root)).splits["train"]
    assert images.shape == (2, 8, 8, 1) and (images == 77).all()
    converted = Preprocessing(image_size=32, channels=3).apply(images)
    assert converted.shape == (2, 32, 32, 3)


def test_gray_mixed_with_rgba_becomes_rgb(root: Path, helpers) -> None:  # noqa: ANN001
    helpers.write_png(root / "x" / "gray.png", (8, 8), "L", value=50)
    helpers.write_png(root / "y" / "rgba.png", (8, 8), "RGBA", value=200)
    images, _ = load_folder(_spec(root)).splits["train"]
    assert images.shape == (2, 8, 8, 3)
    assert images[0, 0, 0].tolist() == [50, 50, 50] and images[1, 0, 0].tolist() == [200, 200, 200]


@pytest.mark.parametrize(
    ("layout", "message"),
    [
        ({"a": 1, "b": 0}, "holds no images"),
        ({}, "no class subdirectories"),
        ({"train/a": 1, "test/zebra": 1}, r"class directories \['zebra'\] that the train split lacks"),
        ({"train/a": 1, "extra/a": 1}, r"unexpected: \['extra'\]"),
        ({"train/a": 1, "val/a": 1, "validation/a": 1}, "two directories for the 'val' split"),
    ],
)
def test_bad_folders_fail_loudly(root: Path, helpers, layout: dict[str, int], message: str) -> None:  # noqa: ANN001
    for directory, count in layout.items():
        (root / directory).mkdir(parents=True)
        for i in range(count):
            helpers.write_png(root / directory / f"{i}.png", (4, 4))
    with pytest.raises(ValueError, match=message):
        load_folder(_spec(root))


def test_unreadable_image_is_named(root: Path) -> None:
    (root / "a").mkdir()
    (root / "a" / "broken.png").write_bytes(b"not a png")
    with pytest.raises(ValueError, match="cannot read image .*broken.png"):
        load_folder(_spec(root))


def test_missing_directory_is_reported(root: Path) -> None:
    with pytest.raises(FileNotFoundError, match="is not a directory"):
        load_folder(_spec(root / "nope"))

"""MNIST in keras' mnist.npz and torchvision's raw IDX layouts, plus the offline error."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from suite.data.loading import DatasetUnavailableError, load_bundle
from suite.data.sources import _cache
from suite.data.sources.mnist import MNIST_URL, load_mnist, read_idx
from suite.spec.models import DatasetSpec


def _check_matches(raw, arrays: dict[str, np.ndarray]) -> None:  # noqa: ANN001
    assert raw.class_names == [str(i) for i in range(10)]
    for split in ("train", "test"):
        images, labels = raw.splits[split]
        assert images.shape == (len(arrays[f"x_{split}"]), 28, 28, 1) and labels.dtype == np.int64
        np.testing.assert_array_equal(images[..., 0], arrays[f"x_{split}"])
        np.testing.assert_array_equal(labels, arrays[f"y_{split}"])


def test_reads_keras_npz_from_keras_home(tmp_path: Path, helpers) -> None:  # noqa: ANN001
    arrays = helpers.mnist_arrays()
    (tmp_path / "keras_home" / "datasets").mkdir(parents=True)
    np.savez(tmp_path / "keras_home" / "datasets" / "mnist.npz", **arrays)
    _check_matches(load_mnist(DatasetSpec(source="mnist")), arrays)


@pytest.mark.parametrize("point_at", ["file", "directory"])
def test_reads_keras_npz_from_dataset_path(tmp_path: Path, helpers, point_at: str) -> None:  # noqa: ANN001
    arrays = helpers.mnist_arrays(seed=1)
    np.savez(tmp_path / "mnist.npz", **arrays)
    path = tmp_path / "mnist.npz" if point_at == "file" else tmp_path
    _check_matches(load_mnist(DatasetSpec(source="mnist", path=str(path))), arrays)


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("layout", ["root", "root/MNIST", "root/MNIST/raw"])
def test_reads_torchvision_idx_files(tmp_path: Path, helpers, compress: bool, layout: str) -> None:  # noqa: ANN001
    arrays = helpers.mnist_arrays(seed=2)
    raw_dir = tmp_path / "root" / "MNIST" / "raw"
    helpers.write_idx(raw_dir / "train-images-idx3-ubyte", arrays["x_train"], compress)
    helpers.write_idx(raw_dir / "train-labels-idx1-ubyte", arrays["y_train"], compress)
    helpers.write_idx(raw_dir / "t10k-images-idx3-ubyte", arrays["x_test"], compress)
    helpers.write_idx(raw_dir / "t10k-labels-idx1-ubyte", arrays["y_test"], compress)
    _check_matches(load_mnist(DatasetSpec(source="mnist", path=str(tmp_path / layout))), arrays)


def test_finds_idx_files_under_the_usual_torchvision_root(helpers) -> None:  # noqa: ANN001
    arrays = helpers.mnist_arrays(seed=3)
    raw_dir = Path("data") / "MNIST" / "raw"  # root="./data", as in most torchvision scripts
    for stem, key in [("train-images-idx3-ubyte", "x_train"), ("train-labels-idx1-ubyte", "y_train"),
                      ("t10k-images-idx3-ubyte", "x_test"), ("t10k-labels-idx1-ubyte", "y_test")]:  # fmt: skip
        helpers.write_idx(raw_dir / stem, arrays[key], compress=True)
    _check_matches(load_mnist(DatasetSpec(source="mnist")), arrays)


def test_idx_reader_rejects_bad_files(tmp_path: Path, helpers) -> None:  # noqa: ANN001
    (tmp_path / "bad").write_bytes(b"\x01\x02\x08\x01\x00\x00\x00\x01\x00")
    with pytest.raises(ValueError, match="bad magic"):
        read_idx(tmp_path / "bad")
    truncated = helpers.write_idx(tmp_path / "short", np.zeros((3, 2, 2), dtype=np.uint8))
    truncated.write_bytes(truncated.read_bytes()[:-1])
    with pytest.raises(ValueError, match=r"shape \(3, 2, 2\)"):
        read_idx(truncated)


def test_npz_without_mnist_arrays_is_rejected(tmp_path: Path) -> None:
    np.savez(tmp_path / "mnist.npz", x_train=np.zeros((2, 28, 28), np.uint8))
    with pytest.raises(ValueError, match="missing arrays"):
        load_mnist(DatasetSpec(source="mnist", path=str(tmp_path / "mnist.npz")))


def test_offline_error_lists_every_place_it_looked(tmp_path: Path, offline_empty_caches: list[str]) -> None:
    with pytest.raises(DatasetUnavailableError) as caught:
        load_bundle(DatasetSpec(source="mnist"), seed=0)
    message = str(caught.value)
    assert offline_empty_caches == [MNIST_URL]
    assert str(tmp_path / "keras_home" / "datasets" / "mnist.npz") in message
    assert str(tmp_path / "cwd" / "data" / "MNIST" / "raw") in message
    assert str(tmp_path / "torch_home" / "datasets" / "MNIST" / "raw") in message
    assert "keras.datasets.mnist.load_data()" in message and "dataset.path" in message
    assert "network is unreachable" in message


def test_missing_explicit_path_fails_without_downloading(tmp_path: Path, offline_empty_caches: list[str]) -> None:
    with pytest.raises(DatasetUnavailableError, match="nothing usable at dataset.path"):
        load_mnist(DatasetSpec(source="mnist", path=str(tmp_path / "nowhere")))
    assert offline_empty_caches == []


def test_download_lands_where_keras_keeps_it(tmp_path: Path, helpers, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    arrays = helpers.mnist_arrays(n_train=100, seed=4)
    fetched: list[tuple[str, Path, str | None]] = []

    def fake_fetch(url: str, destination: Path, sha256: str | None = None, timeout: float = 5.0) -> Path:
        fetched.append((url, destination, sha256))
        np.savez(destination, **arrays)  # np.savez keeps the exact name when it ends in .npz
        return destination

    monkeypatch.setattr(_cache, "fetch", fake_fetch)
    bundle = load_bundle(DatasetSpec(source="mnist", subset={"train": 20}), seed=0)
    destination = tmp_path / "keras_home" / "datasets" / "mnist.npz"
    assert fetched == [(MNIST_URL, destination, fetched[0][2])] and len(fetched[0][2]) == 64
    assert destination.is_file() and len(bundle.train) == 20 and bundle.test.images.shape[1:] == (28, 28, 1)

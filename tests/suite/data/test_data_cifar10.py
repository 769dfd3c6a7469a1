"""CIFAR-10 python pickle batches in the keras and torchvision layouts, plain or as the tarball."""

from __future__ import annotations

import pickle
import tarfile
from pathlib import Path

import numpy as np
import pytest

from suite.data.loading import DatasetUnavailableError, load_bundle
from suite.data.sources.cifar10 import CIFAR10_URL, load_cifar10, unpickle_batch
from suite.spec.models import DatasetSpec


def _check(raw, batches: dict, classes: list[str]) -> None:  # noqa: ANN001
    assert raw.class_names == classes
    train_images, train_labels = raw.splits["train"]
    assert train_images.shape == (100, 32, 32, 3) and train_images.dtype == np.uint8
    first_data, first_labels = batches["data_batch_1"]
    row = first_data[7]  # row layout: 1024 red, 1024 green, 1024 blue values, each 32x32 row-major
    for channel in range(3):
        np.testing.assert_array_equal(
            train_images[7, :, :, channel], row[channel * 1024 : (channel + 1) * 1024].reshape(32, 32)
        )
    assert train_images[5 * 20 - 1, 31, 0, 2] == batches["data_batch_5"][0][19][2 * 1024 + 31 * 32]
    np.testing.assert_array_equal(train_labels[:20], first_labels)
    np.testing.assert_array_equal(raw.splits["test"][1], batches["test_batch"][1])


def test_reads_the_keras3_cache_layout(tmp_path: Path, helpers) -> None:  # noqa: ANN001
    directory = tmp_path / "keras_home" / "datasets" / "cifar-10-batches-py-target" / "cifar-10-batches-py"
    batches = helpers.write_cifar_dir(directory)
    _check(load_cifar10(DatasetSpec(source="cifar10")), batches, helpers.cifar_classes)


@pytest.mark.parametrize("point_at", ["root", "batch_dir"])
def test_reads_a_torchvision_root_or_the_batch_directory(tmp_path: Path, helpers, point_at: str) -> None:  # noqa: ANN001
    batches = helpers.write_cifar_dir(tmp_path / "root" / "cifar-10-batches-py")
    path = tmp_path / "root" if point_at == "root" else tmp_path / "root" / "cifar-10-batches-py"
    _check(load_cifar10(DatasetSpec(source="cifar10", path=str(path))), batches, helpers.cifar_classes)


@pytest.mark.parametrize("given", ["tarball", "default_location"])
def test_reads_the_published_tarball_without_extracting(tmp_path: Path, helpers, given: str) -> None:  # noqa: ANN001
    batches = helpers.write_cifar_dir(tmp_path / "src" / "cifar-10-batches-py")
    tarball = Path("data") / "cifar-10-python.tar.gz"  # torchvision's download name under root="./data"
    tarball.parent.mkdir()
    with tarfile.open(tarball, "w:gz") as archive:
        archive.add(tmp_path / "src" / "cifar-10-batches-py", arcname="cifar-10-batches-py")
    spec = DatasetSpec(source="cifar10", path=str(tarball) if given == "tarball" else None)
    _check(load_cifar10(spec), batches, helpers.cifar_classes)
    assert not (Path("data") / "cifar-10-batches-py").exists()


def test_bundle_splits_the_published_train_and_keeps_test(tmp_path: Path, helpers) -> None:  # noqa: ANN001
    helpers.write_cifar_dir(tmp_path / "root" / "cifar-10-batches-py")
    bundle = load_bundle(DatasetSpec(source="cifar10", path=str(tmp_path / "root"), split={"val": 0.2}), seed=0)
    assert (len(bundle.train), len(bundle.val), len(bundle.test)) == (80, 20, 20)
    np.testing.assert_array_equal(bundle.sample_ids["test"], np.arange(100, 120))
    assert bundle.input_shape == (32, 32, 3)


@pytest.mark.parametrize("protocol", [2, 3, 5])
def test_batches_pickled_with_any_protocol_load(protocol: int) -> None:
    data = np.arange(2 * 3072, dtype=np.uint8).reshape(2, 3072)
    loaded = unpickle_batch(pickle.dumps({b"data": data, b"labels": [3, 4], b"name": b"x"}, protocol=protocol))
    np.testing.assert_array_equal(loaded["data"], data)
    assert loaded["labels"] == [3, 4] and loaded["name"] == b"x"


def test_a_batch_that_would_run_code_is_refused() -> None:
    class Exploit:
        def __reduce__(self) -> tuple:
            return (print, ("pwned",))

    with pytest.raises(pickle.UnpicklingError, match="refusing"):
        unpickle_batch(pickle.dumps({b"data": Exploit()}))


def test_missing_batch_keys_are_reported(tmp_path: Path, helpers) -> None:  # noqa: ANN001
    directory = tmp_path / "cifar-10-batches-py"
    helpers.write_cifar_dir(directory)
    (directory / "test_batch").write_bytes(pickle.dumps({b"data": np.zeros((2, 3072), np.uint8)}, protocol=2))
    with pytest.raises(ValueError, match=r"test_batch: missing key\(s\) \['labels'\]"):
        load_cifar10(DatasetSpec(source="cifar10", path=str(directory)))


def test_offline_error_lists_every_place_it_looked(tmp_path: Path, offline_empty_caches: list[str]) -> None:
    with pytest.raises(DatasetUnavailableError) as caught:
        load_cifar10(DatasetSpec(source="cifar10"))
    message = str(caught.value)
    assert offline_empty_caches == [CIFAR10_URL]
    assert str(tmp_path / "keras_home" / "datasets" / "cifar-10-batches-py-target" / "cifar-10-batches-py") in message
    assert str(tmp_path / "cwd" / "data" / "cifar-10-python.tar.gz") in message
    assert "keras.datasets.cifar10.load_data()" in message

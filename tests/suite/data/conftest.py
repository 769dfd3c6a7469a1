"""Fixtures writing tiny datasets in the real on-disk formats, and a machine with no network and empty caches."""

from __future__ import annotations

import gzip
import pickle
import struct
import urllib.error
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from suite.data.sources import _cache


@pytest.fixture(autouse=True)
def offline_empty_caches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Point every cache at empty tmp dirs, run in an empty cwd and make downloads fail like an offline machine."""
    calls: list[str] = []

    def no_network(url: str, destination: Path, sha256: str | None = None, timeout: float = 5.0) -> Path:
        calls.append(url)
        raise urllib.error.URLError("network is unreachable (test)")

    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    monkeypatch.setattr(_cache, "fetch", no_network)
    return calls


def mnist_arrays(n_train: int = 40, n_test: int = 20, seed: int = 0) -> dict[str, np.ndarray]:
    """Random 28x28 uint8 digits with balanced labels 0..9, keyed as keras' mnist.npz."""
    rng = np.random.default_rng(seed)
    return {
        "x_train": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "y_train": (np.arange(n_train) % 10).astype(np.uint8),
        "x_test": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "y_test": (np.arange(n_test) % 10).astype(np.uint8),
    }


def write_idx(path: Path, array: np.ndarray, compress: bool = False) -> Path:
    """An IDX file as published by LeCun / torchvision: 0x0000, type 0x08, ndim, big-endian dims, bytes."""
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    payload = header + array.astype(np.uint8).tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    if compress:
        path = path.with_name(path.name + ".gz")
        payload = gzip.compress(payload)
    path.write_bytes(payload)
    return path


def cifar_batch(n: int, seed: int) -> tuple[np.ndarray, list[int]]:
    """CIFAR rows: 3072 bytes = R plane, G plane, B plane of 32x32; labels 0..9."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 3072), dtype=np.uint8), [int(i % 10) for i in range(n)]


CIFAR_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def write_cifar_dir(directory: Path, per_batch: int = 20) -> dict[str, tuple[np.ndarray, list[int]]]:
    """cifar-10-batches-py/ with python-2 style pickles (bytes keys) of ``per_batch`` images each."""
    directory.mkdir(parents=True, exist_ok=True)
    batches = {f"data_batch_{i}": cifar_batch(per_batch, seed=i) for i in range(1, 6)}
    batches["test_batch"] = cifar_batch(per_batch, seed=99)
    for name, (data, labels) in batches.items():
        content = {
            b"batch_label": name.encode(),
            b"labels": labels,
            b"data": data,
            b"filenames": [b"x.png"] * len(data),
        }
        (directory / name).write_bytes(pickle.dumps(content, protocol=2))
    meta = {b"label_names": [name.encode() for name in CIFAR_CLASSES], b"num_vis": 3072, b"num_cases_per_batch": 20}
    (directory / "batches.meta").write_bytes(pickle.dumps(meta, protocol=2))
    return batches


def write_png(path: Path, size: tuple[int, int], mode: str = "RGB", value: int = 0) -> Path:
    """A solid image of ``size`` (width, height) in ``mode``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    color = value if mode in ("L", "1") else tuple([value] * len(mode))
    Image.new(mode, size, color).save(path)
    return path


@pytest.fixture
def helpers() -> Callable[..., object]:
    """The writer functions above, for tests (the test directory is not a package)."""

    class Helpers:
        mnist_arrays = staticmethod(mnist_arrays)
        write_idx = staticmethod(write_idx)
        write_cifar_dir = staticmethod(write_cifar_dir)
        write_png = staticmethod(write_png)
        cifar_classes = CIFAR_CLASSES

    return Helpers

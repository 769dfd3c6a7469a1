"""MNIST from keras' ``mnist.npz`` or torchvision's raw IDX files, downloaded the keras way if absent."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from suite.data.registry import RawDataset, register_source
from suite.data.sources import _cache
from suite.spec.models import DatasetSpec

MNIST_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
MNIST_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
_HOW_TO = (
    "on a machine with internet run  python -c 'import keras; keras.datasets.mnist.load_data()'  and copy "
    "~/.keras/datasets/mnist.npz to this machine's ~/.keras/datasets/ (or $KERAS_HOME/datasets/), "
    "or set dataset.path to the mnist.npz file, or to a torchvision root containing MNIST/raw/*-ubyte[.gz]"
)


@register_source("mnist", description="MNIST 28x28 digits (keras mnist.npz or torchvision IDX files; 60k/10k)")
def load_mnist(spec: DatasetSpec) -> RawDataset:
    """MNIST with its published train/test splits, images (N, 28, 28, 1)."""
    npz_candidates, idx_candidates = _candidates(spec.path)
    for npz in npz_candidates:
        if npz.is_file():
            return _from_npz(npz)
    for directory in idx_candidates:
        if _idx_path(directory, IDX_FILES["train"][0]) is not None:
            return _from_idx(directory)
    checked = npz_candidates + idx_candidates
    if spec.path is not None:
        raise _cache.unavailable("MNIST", checked, _HOW_TO, f"nothing usable at dataset.path = {spec.path!r}")
    return _from_npz(_cache.download_or_explain(MNIST_URL, "mnist.npz", MNIST_SHA256, "MNIST", checked, _HOW_TO))


def _candidates(path: str | None) -> tuple[list[Path], list[Path]]:
    """(mnist.npz files, directories that may hold the IDX files) in search order."""
    npz: list[Path] = []
    idx: list[Path] = []
    if path is not None:
        given = Path(path).expanduser()
        if given.suffix == ".npz":
            return [given], []
        npz += [given / "mnist.npz", given / "datasets" / "mnist.npz"]
        idx += [given / "MNIST" / "raw", given / "raw", given]
    else:
        npz += [directory / "mnist.npz" for directory in _cache.keras_dataset_dirs()]
        idx += [root / "MNIST" / "raw" for root in _cache.torchvision_roots()]
    return npz, idx


def _from_npz(path: Path) -> RawDataset:
    with np.load(path, allow_pickle=False) as arrays:
        missing = {"x_train", "y_train", "x_test", "y_test"} - set(arrays.files)
        if missing:
            raise ValueError(f"{path} is not a keras mnist.npz: missing arrays {sorted(missing)}")
        splits = {
            name: (_as_nhwc(arrays[f"x_{name}"], path), arrays[f"y_{name}"].astype(np.int64))
            for name in ("train", "test")
        }
    return RawDataset(splits, [str(i) for i in range(10)], f"keras npz {path}")


def _from_idx(directory: Path) -> RawDataset:
    splits = {}
    for name, (images_file, labels_file) in IDX_FILES.items():
        image_path, label_path = _idx_path(directory, images_file), _idx_path(directory, labels_file)
        if image_path is None or label_path is None:
            raise ValueError(f"{directory} has MNIST IDX files but not {images_file} and {labels_file} (or .gz)")
        splits[name] = (_as_nhwc(read_idx(image_path), image_path), read_idx(label_path).astype(np.int64))
    return RawDataset(splits, [str(i) for i in range(10)], f"torchvision IDX {directory}")


def _idx_path(directory: Path, stem: str) -> Path | None:
    for candidate in (directory / stem, directory / f"{stem}.gz"):
        if candidate.is_file():
            return candidate
    return None


def _as_nhwc(images: np.ndarray, path: Path) -> np.ndarray:
    if images.dtype != np.uint8 or images.ndim != 3:
        raise ValueError(f"{path}: expected uint8 images of shape (N, H, W), got {images.dtype} {images.shape}")
    return images[..., None]


def read_idx(path: Path) -> np.ndarray:
    """Parse an IDX file (plain or .gz) holding unsigned bytes: big-endian header, then the data."""
    raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise ValueError(f"{path} is not an IDX file (bad magic number)")
    if raw[2] != 0x08:
        raise ValueError(f"{path}: IDX data type 0x{raw[2]:02x} is not unsigned byte (0x08)")
    ndim = raw[3]
    header_end = 4 + 4 * ndim
    shape = tuple(int(d) for d in np.frombuffer(raw[4:header_end], dtype=">i4"))
    data = np.frombuffer(raw[header_end:], dtype=np.uint8)
    if data.size != int(np.prod(shape)):
        raise ValueError(f"{path}: header says shape {shape} ({int(np.prod(shape))} values), found {data.size}")
    return data.reshape(shape).copy()

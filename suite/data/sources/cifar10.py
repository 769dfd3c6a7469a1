"""CIFAR-10 from the python pickle batches: a keras or torchvision cache, the tarball, or a download."""

from __future__ import annotations

import io
import pickle
import tarfile
from pathlib import Path

import numpy as np

from suite.data.registry import RawDataset, register_source
from suite.data.sources import _cache
from suite.spec.models import DatasetSpec

CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CIFAR10_SHA256 = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"
BATCH_DIR = "cifar-10-batches-py"
TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
MEMBERS = (*TRAIN_BATCHES, "test_batch", "batches.meta")
_TARBALL_NAMES = ("cifar-10-python.tar.gz", "cifar-10-batches-py.tar.gz", "cifar-10-batches-py-target_archive")
_HOW_TO = (
    "on a machine with internet run  python -c 'import keras; keras.datasets.cifar10.load_data()'  and copy "
    "~/.keras/datasets/cifar-10-batches-py-target/ here, or download cifar-10-python.tar.gz from "
    f"{CIFAR10_URL} and set dataset.path to it (or to the directory holding {BATCH_DIR}/)"
)
_ALLOWED_GLOBALS = frozenset(
    {
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.numeric", "_frombuffer"),
        ("numpy._core.numeric", "_frombuffer"),
        ("_codecs", "encode"),  # how protocol-2 pickles written by Python 3 store bytes
    }
)


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickles plain containers and numpy arrays only: a tampered batch cannot run code."""

    def find_class(self, module: str, name: str) -> object:
        if (module, name) in _ALLOWED_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a CIFAR batch file")


def unpickle_batch(raw: bytes) -> dict[str, object]:
    """One CIFAR pickle (python-2 era, bytes keys) -> dict with str keys."""
    loaded = _NumpyOnlyUnpickler(io.BytesIO(raw), encoding="bytes").load()
    if not isinstance(loaded, dict):
        raise ValueError(f"a CIFAR batch is a pickled dict, got {type(loaded).__name__}")
    return {key.decode() if isinstance(key, bytes) else key: value for key, value in loaded.items()}


@register_source("cifar10", description="CIFAR-10 32x32 colour images, 10 classes (keras/torchvision cache; 50k/10k)")
def load_cifar10(spec: DatasetSpec) -> RawDataset:
    """CIFAR-10 with its published train/test splits, images (N, 32, 32, 3)."""
    candidates = _candidates(spec.path)
    for candidate in candidates:
        if candidate.is_dir() and (candidate / "batches.meta").is_file():
            return _assemble({name: (candidate / name).read_bytes() for name in MEMBERS}, candidate)
        if candidate.is_file():
            return _assemble(_read_tarball(candidate), candidate)
    if spec.path is not None:
        raise _cache.unavailable("CIFAR-10", candidates, _HOW_TO, f"nothing usable at dataset.path = {spec.path!r}")
    tarball = _cache.download_or_explain(
        CIFAR10_URL, "cifar-10-python.tar.gz", CIFAR10_SHA256, "CIFAR-10", candidates, _HOW_TO
    )
    return _assemble(_read_tarball(tarball), tarball)


def _candidates(path: str | None) -> list[Path]:
    """Batch directories and tarballs to try, in order."""
    if path is not None:
        given = Path(path).expanduser()
        if given.is_file() or given.name.endswith((".tar.gz", ".tgz")):
            return [given]
        roots = [given]
        batch_dirs = [given, given / BATCH_DIR, given / "cifar-10-batches-py-target" / BATCH_DIR]
    else:
        roots = _cache.keras_dataset_dirs() + _cache.torchvision_roots()
        batch_dirs = [d / "cifar-10-batches-py-target" / BATCH_DIR for d in _cache.keras_dataset_dirs()]
        batch_dirs += [root / BATCH_DIR for root in roots]
    return batch_dirs + [root / name for root in roots for name in _TARBALL_NAMES]


def _read_tarball(path: Path) -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    try:
        with tarfile.open(path, "r:*") as archive:
            for member in archive:
                name = Path(member.name).name
                if member.isfile() and name in MEMBERS and Path(member.name).parent.name == BATCH_DIR:
                    found[name] = archive.extractfile(member).read()
    except tarfile.TarError as error:
        raise ValueError(f"{path} is not a readable CIFAR-10 tarball: {error}") from error
    missing = [name for name in MEMBERS if name not in found]
    if missing:
        raise ValueError(f"{path} lacks {BATCH_DIR}/{', '.join(missing)}")
    return found


def _assemble(members: dict[str, bytes], origin: Path) -> RawDataset:
    meta = _require(unpickle_batch(members["batches.meta"]), ("label_names",), f"{origin}/batches.meta")
    class_names = [name.decode() if isinstance(name, bytes) else str(name) for name in meta["label_names"]]
    train = [_decode_batch(members[name], f"{origin}/{name}") for name in TRAIN_BATCHES]
    splits = {
        "train": (np.concatenate([images for images, _ in train]), np.concatenate([labels for _, labels in train])),
        "test": _decode_batch(members["test_batch"], f"{origin}/test_batch"),
    }
    return RawDataset(splits, class_names, f"CIFAR-10 pickles {origin}")


def _decode_batch(raw: bytes, where: str) -> tuple[np.ndarray, np.ndarray]:
    """Rows of 3072 bytes (R, G, B planes of 32x32) -> (N, 32, 32, 3) uint8, plus int64 labels."""
    batch = _require(unpickle_batch(raw), ("data", "labels"), where)
    data, labels = np.asarray(batch["data"]), np.asarray(batch["labels"], dtype=np.int64)
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        raise ValueError(f"{where}: expected uint8 data of shape (N, 3072), got {data.dtype} {data.shape}")
    if len(labels) != len(data):
        raise ValueError(f"{where}: {len(data)} images but {len(labels)} labels")
    return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).copy(), labels


def _require(batch: dict[str, object], keys: tuple[str, ...], where: str) -> dict[str, object]:
    missing = [key for key in keys if key not in batch]
    if missing:
        raise ValueError(f"{where}: missing key(s) {missing}; found {sorted(batch)}")
    return batch

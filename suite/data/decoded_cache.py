"""The decoded-data cache: a study's runs decode an image dataset once and memory-map it afterwards.

The first run that loads a ``folder`` dataset (or an ``hf`` dataset saved with ``save_to_disk``) stores the
loader's uint8 arrays (decoded; resized to ``image_size`` where the source needs it) under
``$TLBENCH_CACHE/decoded/<key>/`` (default ``~/.cache/tlbench``; ``TLBENCH_CACHE=off`` disables it). The key
hashes the source, its path, every file below it with its size and modification time, ``image_size``,
``channels``, the column keys and the decoder's version, so a changed, added or removed file selects a new
entry (the outdated one is removed) and stale arrays are never served. Entries are written atomically.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import PIL

from suite.data.registry import RawDataset
from suite.spec.models import DatasetSpec

CACHE_ENV = "TLBENCH_CACHE"
CACHE_VERSION = 1
CACHED_SOURCES = ("folder", "hf")
_META = "meta.json"
_OFF = {"off", "0", "false", "no", "none"}


def cache_root() -> Path | None:
    """``$TLBENCH_CACHE`` (default ``~/.cache/tlbench``), or None when the variable turns the cache off."""
    value = os.environ.get(CACHE_ENV, "").strip()
    if value.lower() in _OFF:
        return None
    return Path(value or "~/.cache/tlbench").expanduser()


def _decoded_dir() -> Path | None:
    root = cache_root()
    return None if root is None else root / "decoded"


def source_files(spec: DatasetSpec) -> tuple[Path, list[Path]] | None:
    """(root, every file under it) for a cacheable dataset; None when the source is not cached."""
    if spec.source not in CACHED_SOURCES or spec.path is None:
        return None
    root = Path(spec.path).expanduser().resolve()
    if not root.is_dir():
        return None
    files = sorted(path for path in root.rglob("*") if path.is_file())
    return root, files


def cache_key(spec: DatasetSpec, root: Path, files: list[Path]) -> tuple[str, dict[str, Any]]:
    """(entry key, identity): the key covers the file listing; the identity leaves it out."""
    identity = {
        "version": CACHE_VERSION,
        "source": spec.source,
        "path": str(root),
        "image_size": spec.image_size,
        "channels": spec.channels,
        "image_key": spec.image_key,
        "label_key": spec.label_key,
        "pillow": PIL.__version__,
    }
    digest = hashlib.sha256(json.dumps(identity, sort_keys=True).encode())
    for path in files:
        stat = path.stat()
        digest.update(f"{path.relative_to(root)}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:24], identity


@dataclass(frozen=True)
class CacheEntry:
    """One stored dataset, as ``suite cache ls`` shows it."""

    key: str
    directory: Path
    meta: dict[str, Any]

    @property
    def size_bytes(self) -> int:
        """Bytes on disk."""
        return sum(path.stat().st_size for path in self.directory.iterdir() if path.is_file())


def load_cached(spec: DatasetSpec, loader: Callable[[DatasetSpec], RawDataset]) -> RawDataset:
    """``loader(spec)``, served from the cache (memory-mapped) when a current entry exists, else stored."""
    decoded, found = _decoded_dir(), source_files(spec)
    if decoded is None or found is None:
        return loader(spec)
    key, identity = cache_key(spec, *found)
    cached = _read(decoded / key)
    if cached is not None:
        return cached
    raw = loader(spec)
    try:
        _write(decoded, key, raw, identity, len(found[1]))
    except OSError:
        pass  # a read-only or full disk only costs the next run a decode
    return raw


def _read(directory: Path) -> RawDataset | None:
    try:
        meta = json.loads((directory / _META).read_text(encoding="utf-8"))
        splits = {
            name: (
                np.load(directory / f"{name}_images.npy", mmap_mode="r", allow_pickle=False),
                np.load(directory / f"{name}_labels.npy", allow_pickle=False),
            )
            for name in meta["splits"]
        }
        return RawDataset(splits, list(meta["class_names"]), meta["description"])
    except (OSError, ValueError, KeyError):
        return None


def _write(decoded: Path, key: str, raw: RawDataset, identity: dict[str, Any], files: int) -> None:
    """Write the entry into a temporary directory, rename it into place, then drop outdated entries."""
    decoded.mkdir(parents=True, exist_ok=True)
    partial = decoded / f".{key}.{os.getpid()}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    for name, (images, labels) in raw.splits.items():
        np.save(partial / f"{name}_images.npy", np.ascontiguousarray(images))
        np.save(partial / f"{name}_labels.npy", labels)
    meta = {
        "identity": identity,
        "splits": list(raw.splits),
        "class_names": list(raw.class_names),
        "description": raw.description,
        "images": sum(len(labels) for _, labels in raw.splits.values()),
        "image_shape": list(next(iter(raw.splits.values()))[0].shape[1:]),
        "files": files,
        "created": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    (partial / _META).write_text(json.dumps(meta, indent=1), encoding="utf-8")
    try:
        partial.rename(decoded / key)
    except OSError:  # another process stored the same entry first
        shutil.rmtree(partial, ignore_errors=True)
    for entry in list_entries():
        if entry.key != key and entry.meta.get("identity") == identity:
            shutil.rmtree(entry.directory, ignore_errors=True)


def list_entries() -> list[CacheEntry]:
    """Every complete entry, oldest first."""
    decoded = _decoded_dir()
    if decoded is None or not decoded.is_dir():
        return []
    entries = []
    for directory in sorted(decoded.iterdir()):
        try:
            meta = json.loads((directory / _META).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        entries.append(CacheEntry(directory.name, directory, meta))
    return sorted(entries, key=lambda entry: entry.meta.get("created", ""))


def clear() -> tuple[int, int]:
    """Remove every entry (and leftovers of interrupted writes): (entries removed, bytes freed)."""
    decoded = _decoded_dir()
    if decoded is None or not decoded.is_dir():
        return 0, 0
    entries = list_entries()
    freed = sum(entry.size_bytes for entry in entries)
    shutil.rmtree(decoded)
    return len(entries), freed

"""The download helper and the cache locations, exercised with file:// URLs (no network)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from suite.data.sources._cache import fetch as real_fetch  # bound before the autouse fixture stubs it out
from suite.data.sources._cache import keras_dataset_dirs, torchvision_roots


def test_fetch_downloads_atomically_and_checks_the_hash(tmp_path: Path) -> None:
    source = tmp_path / "payload.bin"
    source.write_bytes(b"x" * 3_000_000)
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    destination = tmp_path / "cache" / "datasets" / "payload.bin"
    assert real_fetch(source.as_uri(), destination, digest) == destination
    assert destination.read_bytes() == source.read_bytes()
    assert not destination.with_name("payload.bin.part").exists()


def test_fetch_rejects_a_corrupt_download_and_leaves_nothing(tmp_path: Path) -> None:
    source = tmp_path / "payload.bin"
    source.write_bytes(b"corrupted")
    destination = tmp_path / "cache" / "payload.bin"
    with pytest.raises(ValueError, match="SHA-256"):
        real_fetch(source.as_uri(), destination, "0" * 64)
    assert list(destination.parent.iterdir()) == []


def test_cache_locations_follow_the_environment(tmp_path: Path) -> None:
    assert keras_dataset_dirs() == [tmp_path / "keras_home" / "datasets", tmp_path / "tmp" / ".keras" / "datasets"]
    assert torchvision_roots() == [tmp_path / "cwd" / "data", tmp_path / "torch_home" / "datasets"]

"""The decoded-data cache: stored by the first load, memory-mapped later, invalidated by any file change."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from suite.cli import app
from suite.data import decoded_cache
from suite.data.loading import load_bundle
from suite.data.sources.folder import load_folder
from suite.spec.models import DatasetSpec


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TLBENCH_CACHE", str(tmp_path / "tlbench"))
    return tmp_path / "tlbench" / "decoded"


@pytest.fixture
def folder(tmp_path: Path, helpers) -> Path:  # noqa: ANN001
    root = tmp_path / "dataset"
    for label, name in enumerate(["cat", "dog"]):
        for i in range(5):
            helpers.write_png(root / name / f"{i}.png", (10 + i, 8), "RGB", value=50 * label + i)
    return root


class _Counting:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, spec: DatasetSpec):  # noqa: ANN204
        self.calls += 1
        return load_folder(spec)


def _spec(root: Path) -> DatasetSpec:
    return DatasetSpec(source="folder", path=str(root), image_size=8)


def test_the_second_load_is_served_memory_mapped(cache: Path, folder: Path) -> None:
    loader = _Counting()
    first = decoded_cache.load_cached(_spec(folder), loader)
    second = decoded_cache.load_cached(_spec(folder), loader)
    assert loader.calls == 1 and len(list(cache.iterdir())) == 1
    assert isinstance(second.splits["train"][0], np.memmap)
    np.testing.assert_array_equal(second.splits["train"][0], first.splits["train"][0])
    np.testing.assert_array_equal(second.splits["train"][1], first.splits["train"][1])
    assert second.class_names == first.class_names == ["cat", "dog"]
    other_size = decoded_cache.load_cached(DatasetSpec(source="folder", path=str(folder), image_size=6), loader)
    assert loader.calls == 2 and other_size.splits["train"][0].shape[1:] == (6, 6, 3)


def test_a_changed_file_invalidates_and_the_outdated_entry_goes(cache: Path, folder: Path, helpers) -> None:  # noqa: ANN001
    loader = _Counting()
    before = decoded_cache.load_cached(_spec(folder), loader)
    changed = folder / "cat" / "0.png"
    helpers.write_png(changed, (10, 8), "RGB", value=200)
    os.utime(changed, ns=(changed.stat().st_atime_ns, changed.stat().st_mtime_ns + 10**9))
    after = decoded_cache.load_cached(_spec(folder), loader)
    assert loader.calls == 2
    assert before.splits["train"][0][0, 0, 0].tolist() == [0, 0, 0]
    assert after.splits["train"][0][0, 0, 0].tolist() == [200, 200, 200]  # never the stale arrays
    assert len(list(cache.iterdir())) == 1
    helpers.write_png(folder / "dog" / "new.png", (10, 8), "RGB", value=9)
    assert len(decoded_cache.load_cached(_spec(folder), loader).splits["train"][1]) == 11 and loader.calls == 3


def test_load_bundle_is_the_same_with_and_without_the_cache(
    cache: Path, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = DatasetSpec(source="folder", path=str(folder), image_size=8, split={"val": 0.2, "test": 0.2})
    cached = [load_bundle(spec, seed=1) for _ in range(2)]
    monkeypatch.setenv("TLBENCH_CACHE", "off")
    plain = load_bundle(spec, seed=1)
    for bundle in cached:
        for name in ("train", "val", "test"):
            np.testing.assert_array_equal(getattr(bundle, name).images, getattr(plain, name).images)
            np.testing.assert_array_equal(getattr(bundle, name).labels, getattr(plain, name).labels)
    assert len(list(cache.iterdir())) == 1


def test_off_and_uncached_sources_write_nothing(cache: Path, folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    load_bundle(DatasetSpec(source="digits"), seed=0)
    assert not cache.exists()
    monkeypatch.setenv("TLBENCH_CACHE", "off")
    load_bundle(_spec(folder), seed=0)
    assert not cache.exists() and decoded_cache.list_entries() == []


def test_cache_ls_and_clear(cache: Path, folder: Path) -> None:
    decoded_cache.load_cached(_spec(folder), load_folder)
    runner = CliRunner()
    listed = runner.invoke(app, ["cache", "ls"])
    assert listed.exit_code == 0 and "1 cached dataset(s)" in listed.output
    assert f"folder {folder.resolve()}  10 images 8x8x3" in listed.output
    cleared = runner.invoke(app, ["cache", "clear"])
    assert cleared.exit_code == 0 and "removed 1 cached dataset(s)" in cleared.output
    assert "0 cached dataset(s)" in runner.invoke(app, ["cache", "ls"]).output


IMAGENETTE = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "imagenette2-160"


@pytest.mark.needs_data
@pytest.mark.skipif(not IMAGENETTE.is_dir(), reason=f"needs {IMAGENETTE}")
def test_real_jpegs_decode_once_then_load_from_the_cache_much_faster(cache: Path, tmp_path: Path) -> None:
    import time

    folder = tmp_path / "jpegs"
    for class_dir in sorted((IMAGENETTE / "train").iterdir())[:4]:
        (folder / class_dir.name).mkdir(parents=True)
        for jpeg in sorted(class_dir.iterdir())[:40]:
            (folder / class_dir.name / jpeg.name).symlink_to(jpeg)  # linked, never copied
    spec = DatasetSpec(source="folder", path=str(folder), image_size=224)
    seconds, bundles = [], []
    for _ in range(2):
        started = time.perf_counter()
        bundles.append(load_bundle(spec, seed=0))
        seconds.append(time.perf_counter() - started)
    assert bundles[0].train.images.shape[1:] == (224, 224, 3)
    np.testing.assert_array_equal(bundles[0].train.images, bundles[1].train.images)
    assert seconds[1] * 5 < seconds[0], seconds

"""``suite validate`` opens what each run will read: weights headers, image folders; every problem, one line each."""

from __future__ import annotations

import json
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from suite.preflight.files import dataset_file_problems, file_problems, weights_problems
from suite.spec.models import DatasetSpec, ExperimentSpec


def _png(path: Path, value: int = 0) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((8, 8, 3), value, dtype=np.uint8)).save(path)


def _safetensors(path: Path, header: dict) -> Path:
    text = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(text)) + text + b"\x00" * 16)
    return path


def _zip(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("archive/data.pkl", b"\x80\x02}q\x00.")
    return path


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("w.pt", b"garbage garbage", "not a weights file"),
        ("w.pt", b"", "empty file"),
        ("w.pt", b"PK\x03\x04 truncated", "not a PyTorch checkpoint (not a readable zip archive)"),
        ("w.weights.h5", b"\x89PNG\r\n\x1a\n", "not an HDF5 file"),
        ("w.keras", b"not a zip", "not a .keras file"),
        ("w.safetensors", b"\xff" * 8, "not a safetensors file"),
    ],
)
def test_a_damaged_weights_file_is_named_with_its_problem(
    tmp_path: Path, name: str, content: bytes, problem: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    (line,) = weights_problems(str(path))
    assert line.startswith(f"{path}: {problem}")


def test_sound_weights_files_and_named_weights_pass(tmp_path: Path) -> None:
    sound = [
        _zip(tmp_path / "w.pt"),
        _safetensors(
            tmp_path / "w.safetensors", {"fc.weight": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]}}
        ),
    ]
    (tmp_path / "w.weights.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + b"\x00" * 8)
    for weights in ["none", "imagenet", "IMAGENET1K_V2", *map(str, sound), str(tmp_path / "w.weights.h5")]:
        assert weights_problems(weights) == (), weights
    empty_table = _safetensors(tmp_path / "empty.safetensors", {"__metadata__": {}})
    assert weights_problems(str(empty_table)) == (f"{empty_table}: a safetensors file without tensors",)


def test_a_path_into_a_system_directory_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    climb = "../" * (len(tmp_path.parts) + 2) + "etc/passwd"
    (line,) = weights_problems(climb)
    assert line == f"{climb}: resolves to /etc/passwd, inside the system directory /etc; not read"
    (line,) = dataset_file_problems(DatasetSpec(source="folder", path="/proc/self"))
    assert "inside the system directory /proc" in line


def test_an_image_folder_is_opened_class_by_class(tmp_path: Path) -> None:
    single = tmp_path / "single"
    _png(single / "cat" / "a.png")
    assert dataset_file_problems(DatasetSpec(source="folder", path=str(single))) == (
        f"{single}: 1 class directory (cat); a classifier needs at least 2",
    )
    broken = tmp_path / "broken"
    _png(broken / "cat" / "a.png")
    (broken / "dog").mkdir()
    (broken / "dog" / "notes.txt").write_text("no images here")
    (broken / "eel").mkdir()
    (broken / "eel" / "fake.png").write_text("not a png")
    assert dataset_file_problems(DatasetSpec(source="folder", path=str(broken))) == (
        f"{broken / 'dog'}: no images (.png, .jpg, .jpeg, .bmp, .webp)",
        f"{broken / 'eel' / 'fake.png'}: not an image (empty, or its bytes are not PNG, JPEG, BMP or WebP)",
    )
    empty = tmp_path / "empty"
    empty.mkdir()
    (line,) = dataset_file_problems(DatasetSpec(source="folder", path=str(empty)))
    assert "has no class subdirectories" in line


def test_every_problem_of_every_run_is_reported_at_once(tmp_path: Path) -> None:
    garbage = tmp_path / "w.pt"
    garbage.write_bytes(b"garbage")
    single = tmp_path / "single"
    _png(single / "cat" / "a.png")
    base = {"backend": "torch", "model": {"name": "resnet18", "weights": str(garbage)}, "training": {"epochs": 1}}
    runs = [
        ExperimentSpec.model_validate({**base, "name": name, "dataset": {"source": "folder", "path": str(single)}})
        for name in ("a", "b")
    ]
    assert [(problem["run"], problem["key"]) for problem in file_problems(runs)] == [
        ("a", "model.weights"), ("a", "dataset.path"), ("b", "model.weights"), ("b", "dataset.path"),
    ]  # fmt: skip

"""The files a run will read, opened before any training: weights files and image folders, one line per problem.

Only headers and a few sample files are read, never the whole data: a weights file must be a regular,
non-empty file of the format its name says (PyTorch zip or pickle, HDF5, ``.keras`` zip, safetensors with a
readable header of tensor shapes) and must not lie in a system directory; an image folder must hold at least
two classes, each with images whose bytes are images. Runs in the ``suite`` process (no framework imported);
:func:`suite.preflight.check.check_study` adds these problems to the backends' answers.
"""

from __future__ import annotations

import json
import struct
import zipfile
from functools import cache
from pathlib import Path

from suite.data.sources.folder import IMAGE_EXTENSIONS, folder_layout
from suite.spec.models import DatasetSpec, ExperimentSpec

SYSTEM_DIRECTORIES = ("/etc", "/proc", "/sys", "/dev", "/boot", "/run", "/var/run", "/var/log")
"""Where no weights file or dataset belongs: a path resolving under one of these is refused."""
SAMPLED_IMAGES = 3
"""Images per class whose first bytes are checked."""
_NAMED_WEIGHTS = ("none", "imagenet")
_IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"BM", b"GIF87a", b"GIF89a")
_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
_ZIP_MAGIC = b"PK\x03\x04"
_PICKLE_MAGIC = b"\x80"


def file_problems(runs: list[ExperimentSpec]) -> list[dict[str, str]]:
    """``{run, key, message}`` for every problem of the files the runs will read (each file opened once)."""
    problems = []
    for run in runs:
        found = [("model.weights", line) for line in weights_problems(run.model.weights)]
        found += [("dataset.path", line) for line in dataset_file_problems(run.dataset)]
        problems += [{"run": run.name, "key": key, "message": message} for key, message in found]
    return problems


def weights_problems(weights: str) -> tuple[str, ...]:
    """What is wrong with a ``model.weights`` file; nothing for none, imagenet, a torchvision enum or a missing file."""
    if weights in _NAMED_WEIGHTS or (weights.isupper() and "/" not in weights and "." not in weights):
        return ()
    return _weights_file_problems(weights)


@cache
def _weights_file_problems(weights: str) -> tuple[str, ...]:
    path = Path(weights).expanduser()
    outside = system_path_problem(path)
    if outside:
        return (outside,)
    if not path.exists():
        return ()  # a missing file is the existence check's to report
    if not path.is_file():
        return (f"{weights}: not a regular file",)
    try:
        with open(path, "rb") as handle:
            head = handle.read(16)
    except OSError as exc:
        return (f"{weights}: cannot be read ({exc.strerror or exc})",)
    if not head:
        return (f"{weights}: empty file",)
    problem = _format_problem(path, head)
    return (f"{weights}: {problem}",) if problem else ()


def system_path_problem(path: Path) -> str | None:
    """Why ``path`` must not be read (it resolves into a system directory such as /etc), or None."""
    try:
        resolved = path.expanduser().resolve()
    except (OSError, RuntimeError):
        return f"{path}: a link that cannot be followed"
    for root in SYSTEM_DIRECTORIES:
        if resolved == Path(root) or Path(root) in resolved.parents:
            return f"{path}: resolves to {resolved}, inside the system directory {root}; not read"
    return None


def _format_problem(path: Path, head: bytes) -> str | None:
    """What the first bytes say is wrong for the format the file name promises, or None."""
    name = path.name.lower()
    if name.endswith((".h5", ".hdf5")):
        return None if head.startswith(_HDF5_MAGIC) else "not an HDF5 file (a .weights.h5 file starts with \\x89HDF)"
    if name.endswith(".keras"):
        return _zip_problem(path, "a .keras file")
    if name.endswith(".safetensors"):
        return _safetensors_problem(path)
    if head.startswith(_ZIP_MAGIC):
        return _zip_problem(path, "a PyTorch checkpoint")
    if head.startswith((_PICKLE_MAGIC, _HDF5_MAGIC)):
        return None
    return "not a weights file (neither a PyTorch checkpoint, HDF5, .keras nor safetensors)"


def _zip_problem(path: Path, what: str) -> str | None:
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError, EOFError):
        return f"not {what} (not a readable zip archive)"
    return None if names else f"not {what} (an empty zip archive)"


def _safetensors_problem(path: Path) -> str | None:
    """The header is 8 bytes of length and a JSON table of tensors, each with a dtype and a shape."""
    try:
        with open(path, "rb") as handle:
            (length,) = struct.unpack("<Q", handle.read(8))
            if length > path.stat().st_size:
                return "not a safetensors file (its header length exceeds the file)"
            header = json.loads(handle.read(length))
    except (struct.error, ValueError, OSError):
        return "not a safetensors file (unreadable header)"
    tensors = {key: value for key, value in header.items() if key != "__metadata__"} if isinstance(header, dict) else {}
    if not tensors or not all(isinstance(value, dict) and "shape" in value for value in tensors.values()):
        return "a safetensors file without tensors"
    return None


def dataset_file_problems(dataset: DatasetSpec) -> tuple[str, ...]:
    """What is wrong with the files behind ``dataset.path`` (folder source: layout, classes, sample images)."""
    if not dataset.path:
        return ()
    path = Path(dataset.path).expanduser()
    outside = system_path_problem(path)
    if outside:
        return (outside,)
    if dataset.source != "folder" or not path.is_dir():
        return ()  # existence is checked elsewhere
    return _folder_problems(str(path))


@cache
def _folder_problems(root: str) -> tuple[str, ...]:
    try:
        splits, classes = folder_layout(Path(root))
    except (ValueError, OSError) as exc:
        return (str(exc),)
    if len(classes) < 2:
        return (f"{root}: {len(classes)} class directory ({', '.join(classes)}); a classifier needs at least 2",)
    problems = []
    for split_dir in splits.values() or [Path(root)]:
        for name in classes:
            problems += _class_problems(split_dir / name)
    return tuple(problems)


def _class_problems(class_dir: Path) -> list[str]:
    if not class_dir.is_dir():
        return []
    images = sorted(path for path in class_dir.rglob("*") if path.suffix.lower() in IMAGE_EXTENSIONS)
    if not images:
        return [f"{class_dir}: no images ({', '.join(IMAGE_EXTENSIONS)})"]
    bad = [path for path in images[:SAMPLED_IMAGES] if not _looks_like_an_image(path)]
    return [f"{path}: not an image (empty, or its bytes are not PNG, JPEG, BMP or WebP)" for path in bad]


def _looks_like_an_image(path: Path) -> bool:
    try:
        with open(path, "rb") as handle:
            head = handle.read(12)
    except OSError:
        return False
    return head.startswith(_IMAGE_MAGIC) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")

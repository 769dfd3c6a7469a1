"""An ImageFolder directory: ``path/<class>/*.png`` or ``path/{train,val,test}/<class>/*.png``."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from suite.data.registry import RawDataset, canonical_split_name, register_source
from suite.data.sources._images import decode_images
from suite.spec.models import DatasetSpec

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".webp")


@register_source(
    "folder", description="ImageFolder directory: path/<class>/*.png or path/{train,val,test}/<class>/*.png"
)
def load_folder(spec: DatasetSpec) -> RawDataset:
    """Class names are the sorted class directories (as torchvision); published splits when present."""
    root = Path(spec.path or "").expanduser()
    if not root.is_dir():
        raise FileNotFoundError(f"dataset.path {str(root)!r} is not a directory")
    split_dirs, class_names = folder_layout(root)
    scanned = {split: _scan(directory, class_names) for split, directory in (split_dirs or {"train": root}).items()}
    all_paths = [path for paths, _ in scanned.values() for path in paths]
    images = decode_images(all_paths, spec.image_size, str(root))  # one pass, so every split gets one size
    splits, start = {}, 0
    for split, (paths, labels) in scanned.items():
        splits[split] = (images[start : start + len(paths)], labels)
        start += len(paths)
    return RawDataset(splits, class_names, f"image folder {root}")


def folder_layout(root: Path) -> tuple[dict[str, Path], list[str]]:
    """({split: directory} or {} when unsplit, class names) of an ImageFolder; ValueError when it has none."""
    split_dirs = _split_dirs(root)
    return split_dirs, _class_dirs(split_dirs.get("train", root))


def _split_dirs(root: Path) -> dict[str, Path]:
    """{split: directory} when ``root`` holds split directories (train plus val/validation/valid/test), else {}."""
    children = [child for child in sorted(root.iterdir()) if child.is_dir() and not child.name.startswith(".")]
    named = {child: canonical_split_name(child.name) for child in children}
    if "train" not in named.values():
        return {}
    strays = [child.name for child, split in named.items() if split is None]
    if strays:
        raise ValueError(
            f"{root} has a train/ directory, so every subdirectory must be a split "
            f"(train, val|validation|valid, test); unexpected: {strays}"
        )
    found: dict[str, Path] = {}
    for child, split in named.items():
        if split in found:
            raise ValueError(f"{root} has two directories for the {split!r} split: {found[split].name}, {child.name}")
        found[split] = child
    return found


def _class_dirs(directory: Path) -> list[str]:
    names = sorted(c.name for c in directory.iterdir() if c.is_dir() and not c.name.startswith("."))
    if not names:
        raise ValueError(f"{directory} has no class subdirectories (expected {directory}/<class>/<image>)")
    return names


def _scan(directory: Path, class_names: list[str]) -> tuple[list[Path], np.ndarray]:
    """Image paths (sorted, recursive within each class) and their labels."""
    unknown = sorted(set(_class_dirs(directory)) - set(class_names))
    if unknown:
        raise ValueError(
            f"{directory} has class directories {unknown} that the train split lacks (train classes: {class_names})"
        )
    paths: list[Path] = []
    labels: list[int] = []
    for index, name in enumerate(class_names):
        class_dir = directory / name
        if not class_dir.is_dir():
            continue
        files = sorted(p for p in class_dir.rglob("*") if _is_image(p, class_dir))
        if not files:
            raise ValueError(f"class directory {class_dir} holds no images ({', '.join(IMAGE_EXTENSIONS)})")
        paths += files
        labels += [index] * len(files)
    return paths, np.asarray(labels, dtype=np.int64)


def _is_image(path: Path, class_dir: Path) -> bool:
    hidden = any(part.startswith(".") for part in path.relative_to(class_dir).parts)
    return not hidden and path.suffix.lower() in IMAGE_EXTENSIONS and path.is_file()

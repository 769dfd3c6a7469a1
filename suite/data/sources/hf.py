"""A Hugging Face dataset: ``load_dataset(id)`` (hub or cache) or ``load_from_disk(path)``.

``datasets`` is imported inside the loader only; it loads no deep-learning framework.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from suite.data.registry import DatasetUnavailableError, RawDataset, canonical_split_name, register_source
from suite.data.sources._images import ImageItem, decode_images
from suite.spec.models import DatasetSpec

_IMAGE_KEYS = ("image", "img")
_LABEL_KEYS = ("label", "labels")


@register_source("hf", description="Hugging Face dataset by id (hub or local cache) or a save_to_disk copy (path)")
def load_hf(spec: DatasetSpec) -> RawDataset:
    """Published train/validation/test splits; class names from the label column's ClassLabel feature."""
    splits = _published_splits(_load(spec), spec.display_name)
    features = splits["train"].features
    image_key = _pick_column(features, spec.image_key, "Image", _IMAGE_KEYS, "image")
    label_key = _pick_column(features, spec.label_key, "ClassLabel", _LABEL_KEYS, "label")
    class_names, to_index = _label_mapping(splits, label_key)
    items = {name: _image_items(split, image_key) for name, split in splits.items()}
    images = decode_images([item for split in items.values() for item in split], spec.image_size, spec.display_name)
    raw, start = {}, 0
    for name, split in splits.items():
        raw[name] = (images[start : start + len(split)], to_index(list(split[label_key])))
        start += len(split)
    return RawDataset(raw, class_names, f"Hugging Face {spec.path or spec.id}")


def _load(spec: DatasetSpec) -> Any:
    import datasets

    if spec.path is not None:
        path = Path(spec.path).expanduser()
        if not path.exists():
            raise DatasetUnavailableError(
                f"dataset.path {str(path)!r} does not exist. Save a copy on a machine with internet with "
                f"datasets.load_dataset({spec.id or '<id>'!r}).save_to_disk(<dir>) and copy <dir> here."
            )
        return datasets.load_from_disk(str(path))
    try:
        return datasets.load_dataset(spec.id)
    except OSError as error:  # ConnectionError, DatasetNotFoundError (a FileNotFoundError), missing cache files
        raise DatasetUnavailableError(
            f"could not load Hugging Face dataset {spec.id!r} from the Hub or from the cache "
            f"{datasets.config.HF_DATASETS_CACHE} (HF_HOME / HF_DATASETS_CACHE): {error}.\n"
            f'To provide it: on a machine with internet run  python -c "import datasets; '
            f"datasets.load_dataset({spec.id!r}).save_to_disk('<dir>')\"  copy <dir> here and set "
            f"dataset.path = '<dir>' (or copy the whole HF cache directory)."
        ) from error


def _published_splits(loaded: Any, what: str) -> dict[str, Any]:
    """{train|val|test: Dataset}; a single Dataset counts as train. Other split names are ignored."""
    import datasets

    if isinstance(loaded, datasets.Dataset):
        return {"train": loaded}
    found: dict[str, Any] = {}
    for name, split in loaded.items():
        canonical = canonical_split_name(name)
        if canonical is None:
            continue
        if canonical in found:
            raise ValueError(f"{what} publishes two splits that both mean {canonical!r}: {sorted(loaded)}")
        found[canonical] = split
    if "train" not in found:
        raise ValueError(f"{what} has no 'train' split; it publishes {sorted(loaded)}")
    return {name: found[name] for name in ("train", "val", "test") if name in found}


def _pick_column(features: Any, explicit: str | None, feature_type: str, fallbacks: tuple[str, ...], role: str) -> str:
    """The explicit column, else the first column of ``feature_type``, else the first of ``fallbacks`` present."""
    if explicit is not None:
        if explicit not in features:
            raise ValueError(f"dataset.{role}_key {explicit!r} is not a column; columns: {list(features)}")
        return explicit
    typed = [name for name, feature in features.items() if type(feature).__name__ == feature_type]
    named = [name for name in fallbacks if name in features]
    if typed or named:
        return (typed or named)[0]
    raise ValueError(
        f"cannot tell which column holds the {role}s (no {feature_type} feature, none of "
        f"{fallbacks}); set dataset.{role}_key; columns: {list(features)}"
    )


def _label_mapping(splits: dict[str, Any], label_key: str) -> tuple[list[str], Any]:
    """(class names, function turning a split's label values into int64 indices)."""
    feature = splits["train"].features[label_key]
    if type(feature).__name__ == "ClassLabel":
        return list(feature.names), lambda values: np.asarray(values, dtype=np.int64)
    values = {value for split in splits.values() for value in split[label_key]}
    if all(isinstance(value, str) for value in values):
        names = sorted(values)
        index = {name: i for i, name in enumerate(names)}
        return names, lambda labels: np.asarray([index[label] for label in labels], dtype=np.int64)
    if all(isinstance(value, int) and not isinstance(value, bool) for value in values):
        names = [str(i) for i in range(max(values) + 1)]
        return names, lambda labels: np.asarray(labels, dtype=np.int64)
    raise ValueError(f"column {label_key!r} ({feature}) holds neither class indices nor class names")


def _image_items(split: Any, image_key: str) -> list[ImageItem]:
    """Encoded bytes (or file paths) of every image, without letting ``datasets`` decode them."""
    import datasets

    feature = split.features[image_key]
    if not isinstance(feature, datasets.Image):
        raise ValueError(f"column {image_key!r} is {feature}, not an Image feature; set dataset.image_key")
    items: list[ImageItem] = []
    for value in split.cast_column(image_key, datasets.Image(decode=False))[image_key]:
        if value.get("bytes") is not None:
            items.append(value["bytes"])
        elif value.get("path"):
            items.append(Path(value["path"]))
        else:
            raise ValueError(f"column {image_key!r} holds an empty image entry")
    return items

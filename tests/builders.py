"""Test data and spec builders shared by the runner tests: real offline digits as a DataBundle."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.datasets import load_digits

from suite.data.bundle import DataBundle, Split
from suite.data.preprocess import Preprocessing
from suite.spec.models import ExperimentSpec


def digits_bundle(
    image_size: int | None = None, channels: int | None = None, normalization: str = "unit", limit: int | None = None
) -> DataBundle:
    """sklearn's 8x8 digits as uint8 NHWC (round(x * 255 / 16)), split 60/20/20 after a fixed shuffle."""
    digits = load_digits()
    images = np.rint(digits.images * 255.0 / 16.0).astype(np.uint8)[..., None]
    labels = digits.target.astype(np.int64)
    order = np.random.default_rng(0).permutation(len(labels))[:limit]
    images, labels = images[order], labels[order]
    n_train, n_val = int(0.6 * len(labels)), int(0.2 * len(labels))
    cuts = {"train": slice(0, n_train), "val": slice(n_train, n_train + n_val), "test": slice(n_train + n_val, None)}
    splits = {name: Split(images[cut], labels[cut]) for name, cut in cuts.items()}
    return DataBundle(
        **splits,
        class_names=[str(digit) for digit in range(10)],
        preprocessing=Preprocessing(image_size=image_size, channels=channels, normalization=normalization),
        source="digits",
    )


def small_bundle(bundle: DataBundle, n_train: int, n_eval: int) -> DataBundle:
    """The first samples of each split (for fast tests on bigger models)."""

    def cut(split: Split, n: int) -> Split:
        return Split(split.images[:n], split.labels[:n])

    return DataBundle(
        cut(bundle.train, n_train), cut(bundle.val, n_eval), cut(bundle.test, n_eval),
        bundle.class_names, bundle.preprocessing, bundle.source,
    )  # fmt: skip


_DEFAULTS: dict[str, dict[str, Any]] = {
    "torch": {
        "name": "test",
        "dataset": {"source": "digits"},
        "training": {"epochs": 2, "batch_size": 32, "device": "cpu", "precision": "fp32"},
    },
    "keras": {
        "name": "test[backend=keras]",
        "dataset": {"source": "digits", "normalization": "unit"},
        "optimizer": {"name": "adam", "lr": 1e-3},
        "training": {"epochs": 1, "batch_size": 32},
    },
}


def make_spec(model: dict[str, Any], backend: str = "torch", **sections: Any) -> ExperimentSpec:
    """An ExperimentSpec on digits for ``backend``; table-valued ``sections`` update the defaults key by key."""
    raw: dict[str, Any] = {**copy.deepcopy(_DEFAULTS[backend]), "backend": backend, "seed": 0, "model": model}
    for key, value in sections.items():
        raw[key] = {**raw[key], **value} if isinstance(value, dict) and isinstance(raw.get(key), dict) else value
    return ExperimentSpec.model_validate(raw)


def numpy_spec(**sections: Any) -> ExperimentSpec:
    """A spec for the plain-numpy test backend (registered as ``numpy``): mlp2 on digits, SGD at lr 0.5, 3 epochs;
    table-valued ``sections`` update these key by key."""
    raw: dict[str, Any] = {
        "name": "t",
        "backend": "numpy",
        "dataset": {"source": "digits"},
        "model": {"name": "mlp2"},
        "optimizer": {"name": "sgd", "lr": 0.5},
        "training": {"epochs": 3, "batch_size": 64},
    }
    for key, value in sections.items():
        raw[key] = {**raw.get(key, {}), **value}
    return ExperimentSpec.model_validate(raw)


def keras_spec(model: dict[str, Any], **sections: Any) -> ExperimentSpec:
    """:func:`make_spec` for the Keras backend."""
    return make_spec(model, "keras", **sections)


PIXEL_AUGMENTATIONS: dict[str, Any] = {
    "flip": "horizontal",
    "crop": {"padding": 2},
    "rotation": 10,
    "translate": 0.1,
    "color_jitter": {"brightness": 0.2, "contrast": 0.2, "saturation": 0.2},
}
"""Every pixel augmentation on (a ``dataset.augment`` table)."""
EVERY_AUGMENTATION: dict[str, Any] = {**PIXEL_AUGMENTATIONS, "mixup": 0.2, "cutmix": 1.0}
"""Every augmentation on, label mixing included."""


def train_steps(session: Any, data: DataBundle, count: int, start: int = 0) -> list[float]:
    """Losses of ``count`` training steps of 8 training images each, from batch ``start`` on."""
    images = data.preprocessing.apply(data.train.images)
    losses = []
    for index in range(start, start + count):
        rows = slice(8 * index, 8 * index + 8)
        losses.append(session.train_step(images[rows], data.train.labels[rows])[0])
    return losses


def plugin_study(
    models: dict[str, str], epochs: int = 1, dataset: str = 'source = "digits", normalization = "unit"'
) -> str:
    """A study TOML for the ``centroid`` test plugin backend: one experiment per (run name, model name)."""
    experiments = "".join(
        f'\n[[experiments]]\nname = "{name}"\nmodel = {{ name = "{model}" }}\n' for name, model in models.items()
    )
    return (
        f'[study]\nname = "plugin"\n\n[defaults]\nbackend = "centroid"\ndataset = {{ {dataset} }}\n'
        f'optimizer = {{ name = "sgd", lr = 0.5 }}\ntraining = {{ epochs = {epochs} }}\n{experiments}'
    )


def run_suite(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """``python -m suite ARGS`` in ``cwd``, as a user types it (output captured as text, piped: no terminal)."""
    return subprocess.run([sys.executable, "-m", "suite", *args], capture_output=True, text=True, cwd=cwd, env=env)


def legacy_h5(path: Path, layers: dict[str, list[np.ndarray]]) -> None:
    """A Keras 2 style weights file, as keras.applications' cache holds them: layers and weights by name."""
    import h5py

    with h5py.File(path, "w") as root:
        root.attrs["layer_names"] = [name.encode() for name in layers]
        for name, arrays in layers.items():
            group = root.create_group(name)
            names = [f"{name}/w{index}:0".encode() for index in range(len(arrays))]
            group.attrs["weight_names"] = names
            for weight, array in zip(names, arrays, strict=True):
                group.create_dataset(weight.decode(), data=array)

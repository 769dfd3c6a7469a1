"""Same augmented batches in every backend: one epoch in torch and in Keras, equal batch fingerprints."""

import csv
from pathlib import Path

import pytest
from builders import PIXEL_AUGMENTATIONS

from suite import store
from suite.execution.executor import run_study
from suite.runners.registry import discover
from suite.spec.loader import build_study

pytestmark = pytest.mark.skipif(
    not all(entry.availability()[0] for entry in discover().values()), reason="needs both backends installed"
)

PIXELS = PIXEL_AUGMENTATIONS


def _fingerprints(tmp_path: Path, augment: dict, backends: list[str]) -> dict[str, list[str]]:
    """Batch fingerprints per run, one run per ``backend`` or ``backend/engine``."""
    experiments = [
        {"name": name.replace("/", "_"), "backend": name.split("/")[0], "engine": name.split("/")[1]}
        if "/" in name
        else {"name": name, "backend": name}
        for name in backends
    ]
    raw = {
        "study": {"name": "augment"},
        "defaults": {
            "dataset": {
                "source": "digits",
                "image_size": 16,
                "channels": 3,
                "subset": {"train": 96},
                "augment": augment,
            },
            "model": {"name": "simple_cnn"},
            "training": {"epochs": 1, "batch_size": 32, "device": "cpu", "precision": "fp32"},
        },
        "experiments": experiments,
    }
    records = run_study(build_study(raw, Path("augment.toml")), tmp_path, quiet=True)
    found = {}
    for record in records:
        error = store.read_result(record.directory).get("error") or ""
        assert record.status == "completed", error
        with (record.directory / store.HISTORY_FILE).open() as handle:
            found[record.name] = [row["batch_fingerprint"] for row in csv.DictReader(handle)]
    return found


def _assert_same(found: dict[str, list[str]]) -> None:
    values = list(found.values())
    assert all(len(value) == 1 and value[0] for value in values), found
    assert all(value == values[0] for value in values), found


@pytest.mark.slow
def test_every_pixel_augmentation_gives_the_same_batches_in_torch_and_tensorflow(tmp_path: Path) -> None:
    _assert_same(_fingerprints(tmp_path, PIXELS, ["torch", "keras"]))


@pytest.mark.slow
def test_mixup_and_cutmix_give_the_same_batches_in_torch_and_tensorflow(tmp_path: Path) -> None:
    _assert_same(_fingerprints(tmp_path, {**PIXELS, "mixup": 0.2, "cutmix": 1.0}, ["torch", "keras"]))


@pytest.mark.slow
def test_every_pixel_augmentation_gives_the_same_batches_on_tensorflow_and_jax(tmp_path: Path) -> None:
    _assert_same(_fingerprints(tmp_path, PIXELS, ["torch", "keras/tensorflow", "keras/jax"]))

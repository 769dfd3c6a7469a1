"""Augmented training batches: independent of batch size and threads, fingerprinted, never val/test."""

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from builders import EVERY_AUGMENTATION, PIXEL_AUGMENTATIONS, digits_bundle
from numpy_backend import NumpyRunner

from suite.augment import Augmenter
from suite.data.bundle import Split
from suite.data.preprocess import Preprocessing
from suite.runners import registry
from suite.runners.progress import NullProgress
from suite.spec.models import AugmentSpec, ExperimentSpec
from suite.training.batches import AugmentedInputs, epoch_order, make_train_inputs, prefetched
from suite.training.run import execute

SPEC = EVERY_AUGMENTATION


def _inputs(spec: dict, workers: int = 1) -> AugmentedInputs:
    rng = np.random.default_rng(0)
    split = Split(rng.integers(0, 256, (37, 12, 12, 3), dtype=np.uint8), np.arange(37) % 5)
    augmenter = Augmenter(AugmentSpec.model_validate(spec), seed=3, num_classes=5)
    inputs = make_train_inputs(split, Preprocessing(normalization="imagenet"), augmenter, np.arange(37) + 500, workers)
    assert isinstance(inputs, AugmentedInputs)
    return inputs


def _epoch(inputs: AugmentedInputs, batch_size: int, epoch: int = 0) -> tuple[np.ndarray, np.ndarray, str]:
    order = epoch_order(3, epoch, len(inputs))
    batches = list(inputs.epoch_batches(batch_size, order, epoch))
    assert all(len(labels) <= batch_size for _, labels in batches)
    return np.concatenate([b for b, _ in batches]), np.concatenate([y for _, y in batches]), inputs.fingerprint


@pytest.mark.parametrize("spec", [SPEC, {"flip": "both", "random_resized_crop": {}}])
def test_batches_do_not_depend_on_batch_size_or_threads(spec: dict) -> None:
    reference = _epoch(_inputs(spec), 37)
    assert reference[0].dtype == np.float32 and reference[0].shape == (37, 12, 12, 3)
    for batch_size, workers in ((1, 1), (5, 3), (16, 2)):
        pixels, labels, fingerprint = _epoch(_inputs(spec, workers), batch_size)
        np.testing.assert_array_equal(pixels, reference[0])
        np.testing.assert_array_equal(labels, reference[1])
        assert fingerprint == reference[2]
    assert _epoch(_inputs(spec), 8, epoch=1)[2] != reference[2]


def test_soft_labels_only_with_mixing() -> None:
    assert _epoch(_inputs(SPEC), 8)[1].shape == (37, 5)
    plain = _epoch(_inputs({"flip": "horizontal"}), 8)[1]
    assert plain.dtype == np.int64 and plain.shape == (37,)


def test_prefetched_keeps_the_order_and_stops_cleanly() -> None:
    tasks = [lambda i=i: i * i for i in range(20)]
    assert list(prefetched(tasks, workers=3)) == [i * i for i in range(20)]
    stream = prefetched(tasks, workers=2)
    assert next(stream) == 0
    stream.close()  # pending work is cancelled, no thread left behind


@pytest.fixture
def numpy_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    registry.discover()
    monkeypatch.setitem(
        registry._RUNNERS,
        "numpy",
        registry.RunnerEntry("numpy", NumpyRunner, (), "plain numpy", NumpyRunner.capabilities),
    )


def _spec(augment: dict, **training) -> ExperimentSpec:
    return ExperimentSpec.model_validate(
        {
            "name": "t",
            "backend": "numpy",
            "dataset": {"source": "digits", "augment": augment},
            "model": {"name": "mlp2"},
            "optimizer": {"name": "sgd", "lr": 0.1},
            "training": {"epochs": 2, "batch_size": 64, **training},
        }
    )


def test_a_run_records_fingerprints_and_never_augments_val_or_test(numpy_backend: None, tmp_path: Path) -> None:
    data = digits_bundle()
    runner = NumpyRunner()
    seen: list[np.ndarray] = []
    output = execute(_spec({"flip": "horizontal", "rotation": 15}), _Spy(runner, seen), data, tmp_path, NullProgress())
    fingerprints = [row["batch_fingerprint"] for row in output.history]
    assert len(set(fingerprints)) == 2 and output.extra["batch_fingerprints"] == fingerprints
    assert output.extra["augment"]["spec"] == {"flip": "horizontal", "rotation": 15.0}
    plan = json.loads((tmp_path / "plan.json").read_text())
    assert plan["feature_cache"] == {
        "active": False,
        "groups": [],
        "reason": "dataset.augment changes the training images every epoch",
    }
    predicted = np.concatenate(seen[1:])  # seen[0] is the parity probe (first test images)
    val, test = (data.preprocessing.apply(split.images) for split in (data.val, data.test))
    passes = np.concatenate([val, val, test])  # two val passes, one test pass
    np.testing.assert_array_equal(predicted[: len(passes)], passes)
    val_rows = {row.tobytes() for row in val}  # then the efficiency's latency calls, on unaugmented val images
    assert all(row.tobytes() in val_rows for row in predicted[len(passes) :])
    with pytest.raises(ValueError, match="augment"):
        execute(_spec({"flip": "horizontal"}, feature_cache=True), runner, data, tmp_path, NullProgress())


class _Spy:
    """The numpy runner, recording every batch its session predicts."""

    def __init__(self, runner: NumpyRunner, seen: list) -> None:
        self.runner, self.seen = runner, seen

    def __getattr__(self, name: str):
        return getattr(self.runner, name)

    def open_session(self, *args):
        session = self.runner.open_session(*args)
        predict = session.predict
        session.predict = lambda inputs: (self.seen.append(np.array(inputs)), predict(inputs))[1]
        return session


def test_mixup_and_cutmix_train_on_soft_labels_through_the_loop(numpy_backend: None, tmp_path: Path) -> None:
    output = execute(_spec({"mixup": 0.2, "cutmix": 1.0}), NumpyRunner(), digits_bundle(), tmp_path, NullProgress())
    assert all(np.isfinite(row["train_loss"]) for row in output.history)
    assert output.history[-1]["val_accuracy"] > 0.15 and output.history[1]["val_loss"] < output.history[0]["val_loss"]


def test_a_backend_without_soft_labels_is_refused_before_training(numpy_backend: None, tmp_path: Path) -> None:
    class HardLabelsOnly(NumpyRunner):
        capabilities = replace(NumpyRunner.capabilities, soft_labels=False)

    with pytest.raises(ValueError, match="mixup/cutmix train on class probabilities"):
        execute(_spec({"mixup": 0.2}), HardLabelsOnly(), digits_bundle(), tmp_path, NullProgress())


@pytest.mark.parametrize("normalization", ["imagenet", "half", "none"])
def test_pixel_batches_are_the_augmented_batches_before_normalisation(normalization: str) -> None:
    rng = np.random.default_rng(0)
    split = Split(rng.integers(0, 256, (21, 12, 12, 3), dtype=np.uint8), np.arange(21) % 5)
    augmenter = Augmenter(AugmentSpec.model_validate(PIXEL_AUGMENTATIONS), seed=3, num_classes=5)
    prep = Preprocessing(normalization=normalization)
    floats = make_train_inputs(split, prep, augmenter, np.arange(21), workers=2)
    pixels = make_train_inputs(split, prep, augmenter, np.arange(21), workers=2, pixels=True)
    assert pixels.pixels and not pixels.static and not floats.pixels
    order = epoch_order(3, 1, 21)
    for (a, la), (b, lb) in zip(floats.epoch_batches(8, order, 1), pixels.epoch_batches(8, order, 1), strict=True):
        assert b.dtype == np.uint8
        np.testing.assert_array_equal(pixels.table[b, np.arange(3)].view(np.uint32), a.view(np.uint32))
        np.testing.assert_array_equal(la, lb)
    assert pixels.fingerprint == floats.fingerprint is not None


def test_mixed_pixels_stay_normalised_floats() -> None:
    split = Split(np.zeros((6, 4, 4, 3), dtype=np.uint8), np.arange(6) % 2)
    augmenter = Augmenter(AugmentSpec.model_validate(SPEC), seed=0, num_classes=2)
    assert not make_train_inputs(split, Preprocessing(), augmenter, pixels=True).pixels

import subprocess
import sys

import numpy as np
import pytest
from builders import keras_spec as make_spec

from suite.runners.progress import NullProgress
from suite.runners.protocol import HISTORY_COLUMNS, RunOutput


class RecordingProgress(NullProgress):
    def __init__(self):
        self.events = []

    def epoch_start(self, epoch, total_epochs, total_batches):
        self.events.append(("epoch_start", epoch, total_epochs, total_batches))

    def epoch_end(self, epoch, metrics):
        self.events.append(("epoch_end", epoch, metrics))

    def message(self, text):
        self.events.append(("message", text))


def test_package_import_registers_runner_without_loading_a_framework():
    code = (
        "import sys, keras_impl; from suite.runners.registry import discover; "
        "entry = discover()['keras']; assert entry.availability()[0]; "
        "loaded = [m for m in ('keras', 'tensorflow', 'torch', 'jax') if m in sys.modules]; "
        "assert not loaded, loaded"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.fixture(scope="module")
def mlp_run(runner, digits, tmp_path_factory):
    spec = make_spec({"name": "mlp"}, training={"epochs": 12, "batch_size": 32})
    progress = RecordingProgress()
    output = runner.run(spec, digits, tmp_path_factory.mktemp("mlp"), progress)
    return output, progress, digits


def test_mlp_learns_digits(mlp_run):
    output, _, digits = mlp_run
    assert isinstance(output, RunOutput)
    accuracy = float(np.mean(output.test_scores.argmax(axis=1) == output.test_labels))
    assert accuracy > 0.9
    np.testing.assert_array_equal(output.test_labels, digits.test.labels)


def test_run_output_fields(mlp_run):
    output, progress, digits = mlp_run
    assert output.test_scores.shape == (len(digits.test), 10)
    assert output.test_scores.dtype == np.float32
    np.testing.assert_allclose(output.test_scores.sum(axis=1), 1.0, atol=1e-4)
    assert [row["epoch"] for row in output.history] == list(range(12))
    for row in output.history:
        assert set(HISTORY_COLUMNS) <= set(row)
        assert row["lr"] == pytest.approx(1e-3)
        assert row["seconds"] > 0
    assert output.history[-1]["train_loss"] < output.history[0]["train_loss"]
    assert output.best_epoch == 11
    assert output.params.total == output.params.trainable == 8 * 8 * 128 + 128 + 128 * 64 + 64 + 64 * 10 + 10
    timing = output.timing
    assert timing.train_images_per_second > 0 and timing.eval_images_per_second > 0
    assert timing.warmup_batches_excluded == 2
    assert timing.train_seconds >= sum(row["seconds"] for row in output.history) * 0.9
    env = output.environment
    assert env["frameworks"]["keras"] and env["frameworks"][output.extra["keras_backend"]]
    starts = [event for event in progress.events if event[0] == "epoch_start"]
    assert starts[0] == ("epoch_start", 0, 12, int(np.ceil(len(digits.train) / 32)))
    assert sum(event[0] == "epoch_end" for event in progress.events) == 12


def test_same_seed_same_result(runner, digits, tmp_path):
    spec = make_spec({"name": "mlp"}, training={"epochs": 2})
    first = runner.run(spec, digits, tmp_path / "a", NullProgress())
    second = runner.run(spec, digits, tmp_path / "b", NullProgress())
    np.testing.assert_allclose(first.test_scores, second.test_scores, rtol=1e-5, atol=1e-6)


def test_list_models_and_describe(runner):
    models = runner.list_models()
    assert {"mlp", "simple_cnn", "mobilenet_v2", "resnet50", "efficientnet_b0"} <= set(models)
    from suite.spec.models import ModelSpec

    counts = runner.describe(ModelSpec(name="simple_cnn"), (32, 32, 3), 10)
    assert counts.total == 2_122_186


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"model": {"name": "nope"}}, "unknown keras model 'nope'"),
        ({"strategy": {"discriminative_lr": {"lr_mult": 0.5}}}, "discriminative_lr"),
        ({"strategy": {"unfreeze_schedule": {2: ["hidden1"]}}}, "unfreeze_schedule"),
        ({"strategy": {"freeze": ["conv7"]}}, "unknown layer group(s) 'conv7'"),
        ({"strategy": {"freeze_blocks": 3}}, "only 2 groups before the head"),
        ({"training": {"epochs": 1, "feature_cache": True}}, "feature_cache"),
        ({"training": {"epochs": 1, "channels_last": False}}, "channels_last"),
        ({"training": {"epochs": 1, "compile": True, "deterministic": True}}, "XLA off"),
        ({"model": {"name": "mlp", "weights": "imagenet"}}, "trains from scratch"),
        ({"model": {"name": "mobilenet_v2", "weights": "/no/such/file.h5"}}, "existing weights file"),
        ({"model": {"name": "simple_cnn", "dropout": 0.3}}, "model.dropout sets the mlp's dropout"),
        ({"optimizer": {"name": "adam", "momentum": 0.9}}, "momentum applies to sgd only"),
        ({"training": {"epochs": 1, "scheduler": {"name": "plateau", "warmup_epochs": 1}}}, "plateau"),
        ({"training": {"epochs": 1, "scheduler": {"name": "step", "eta_min": 0.1}}}, "does not use eta_min"),
        ({"model": {"name": "mobilenet_v2"}, "dataset": {"source": "digits", "channels": 1}}, "3-channel"),
    ],
)
def test_check_reports_what_keras_cannot_do(runner, overrides, fragment):
    model = overrides.pop("model", {"name": "mlp"})
    problems = runner.check(make_spec(model, **overrides))
    assert any(fragment in problem for problem in problems), problems


def test_check_accepts_supported_spec(runner):
    spec = make_spec(
        {"name": "mobilenet_v2", "head": "gap"},
        strategy={"freeze": ["stem", "block_1"]},
        training={"epochs": 1, "scheduler": {"name": "cosine", "warmup_epochs": 1}, "early_stopping": {"patience": 2}},
    )
    assert runner.check(spec) == []


def test_check_rejects_a_backend_this_process_does_not_run(runner):
    import keras

    other = "torch" if keras.backend.backend() != "torch" else "tensorflow"
    problems = runner.check(make_spec({"name": "mlp"}, keras_backend=other))
    assert len(problems) == 1 and f"KERAS_BACKEND={other}" in problems[0]


def test_streamed_inputs_when_data_do_not_fit_in_memory(runner, digits, tmp_path, monkeypatch):
    import keras_impl.data as data_module

    monkeypatch.setattr(data_module, "IN_MEMORY_LIMIT_BYTES", 0)
    spec = make_spec(
        {"name": "mlp"},
        optimizer={"name": "adam", "lr": 3e-3},
        training={"epochs": 4, "batch_size": 32, "eval_batch_size": 50, "num_workers": 2},
    )
    output = runner.run(spec, digits, tmp_path, NullProgress())
    assert output.extra["input_mode"] == "streamed"
    assert output.test_scores.shape == (len(digits.test), 10)
    assert float(np.mean(output.test_scores.argmax(axis=1) == output.test_labels)) > 0.85  # order preserved
    assert len(output.history) == 4


def test_check_accepts_a_spec_read_back_with_every_field_set(runner):
    spec = make_spec({"name": "mlp"}, training={"epochs": 1, "scheduler": {"name": "cosine"}})
    round_tripped = type(spec).model_validate(spec.model_dump())
    assert round_tripped.training.scheduler.model_fields_set >= {"gamma", "patience"}
    assert runner.check(round_tripped) == []

import subprocess
import sys

import numpy as np
import pytest

from suite.runners.protocol import HISTORY_COLUMNS
from suite.runners.registry import create_runner, discover
from torch_impl.runner import TorchRunner


def test_package_registers_runner_without_importing_torch():
    code = "import sys, torch_impl; from suite.runners.registry import discover; " \
           "assert 'torch' in discover(); assert 'torch' not in sys.modules, 'torch imported'"  # fmt: skip
    subprocess.run([sys.executable, "-c", code], check=True)


def test_registry_creates_torch_runner():
    assert discover()["torch"].availability() == (True, "ok")
    assert create_runner("torch").name == "torch"


@pytest.fixture(scope="module")
def mlp_run(digits, spec_for, tmp_path_factory):
    spec = spec_for({"name": "mlp"}, training={"epochs": 10})
    return TorchRunner().run(spec, digits, tmp_path_factory.mktemp("mlp"))


def test_mlp_learns_digits(mlp_run, digits):
    accuracy = float((mlp_run.test_scores.argmax(axis=1) == mlp_run.test_labels).mean())
    assert accuracy > 0.9
    losses = [row["train_loss"] for row in mlp_run.history]
    assert losses[-1] < 0.5 * losses[0]
    assert mlp_run.history[-1]["val_loss"] < mlp_run.history[0]["val_loss"]


def test_run_output_fields(mlp_run, digits):
    out = mlp_run
    assert [row["epoch"] for row in out.history] == list(range(10))
    assert all(set(HISTORY_COLUMNS) <= set(row) for row in out.history)
    assert out.test_scores.shape == (len(digits.test), 10)
    np.testing.assert_allclose(out.test_scores.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(out.test_labels, digits.test.labels)
    assert out.best_epoch == 9  # no early stopping: the last epoch's weights are tested
    assert out.params.total == out.params.trainable == 64 * 128 + 128 + 128 * 64 + 64 + 64 * 10 + 10
    timing = out.timing
    assert timing.train_images_per_second > 0 and timing.eval_images_per_second > 0
    assert timing.warmup_batches_excluded == 2 and timing.train_seconds >= sum(r["seconds"] for r in out.history) * 0.9
    assert out.environment["frameworks"].keys() == {"torch", "torchvision"}
    assert out.environment["device"] == "cpu" and out.extra["precision"] == "fp32"
    assert out.extra["data_loading"] == {"train": "preloaded", "val": "preloaded", "test": "preloaded"}


def test_streaming_path_matches_preloaded(digits, spec_for, tmp_path, monkeypatch):
    import torch_impl.execution as execution
    from torch_impl import data as data_module

    spec = spec_for({"name": "mlp"}, training={"epochs": 2})
    preloaded = TorchRunner().run(spec, digits, tmp_path / "a")
    original = data_module.make_split
    monkeypatch.setattr(execution, "make_split", lambda *args: original(*args, preload_limit=0))
    streamed = TorchRunner().run(spec, digits, tmp_path / "b")
    assert streamed.extra["data_loading"]["train"] == "streamed"
    np.testing.assert_allclose(streamed.test_scores, preloaded.test_scores, atol=1e-6)


def test_simple_cnn_and_frozen_resnet_run(digits_rgb32, spec_for, tmp_path):
    runner = TorchRunner()
    cnn = runner.run(spec_for({"name": "simple_cnn"}, training={"epochs": 2}), digits_rgb32, tmp_path / "cnn")
    assert cnn.params.total == 2_122_186 and cnn.extra["channels_last"] is True
    spec = spec_for({"name": "resnet18"}, strategy={"freeze": "all_but_head"}, training={"epochs": 1})
    resnet = runner.run(spec, digits_rgb32, tmp_path / "resnet")
    assert resnet.params.trainable == 5_130 and resnet.params.groups["head"]["trainable"] == 5_130
    assert resnet.test_scores.shape == (len(digits_rgb32.test), 10)


def test_run_refuses_a_spec_check_rejects(digits, spec_for, tmp_path):
    with pytest.raises(ValueError, match="unknown layer group"):
        TorchRunner().run(spec_for({"name": "mlp"}, strategy={"freeze": ["conv9"]}), digits, tmp_path)


def test_torch_runs_never_load_tensorflow(tmp_path):
    code = f"""
import sys
sys.path.insert(0, {str(__import__("pathlib").Path(__file__).parents[1])!r})
from builders import digits_bundle, make_spec
from torch_impl.runner import TorchRunner
spec = make_spec({{"name": "mlp"}}, training={{"epochs": 1, "tensorboard": True, "checkpoint": True}})
TorchRunner().run(spec, digits_bundle(), {str(tmp_path)!r})
loaded = sorted(name for name in ("tensorflow", "keras", "jax") if name in sys.modules)
assert not loaded, loaded
"""
    subprocess.run([sys.executable, "-c", code], check=True)

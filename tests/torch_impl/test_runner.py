import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from suite.runners.protocol import HISTORY_COLUMNS
from suite.runners.registry import create_runner, discover
from suite.spec.models import ModelSpec
from torch_impl.runner import TorchRunner

RESNET18_GROUPS = ["stem", "layer1", "layer2", "layer3", "layer4", "head"]


def test_package_registers_runner_without_importing_torch():
    code = "import sys, torch_impl; from suite.runners.registry import discover; " \
           "assert 'torch' in discover(); assert 'torch' not in sys.modules, 'torch imported'"  # fmt: skip
    subprocess.run([sys.executable, "-c", code], check=True)


def test_registry_creates_torch_runner():
    entry = discover()["torch"]
    assert entry.availability() == (True, "ok") and entry.extra == "torch" and not entry.engines
    assert create_runner("torch").name == "torch"


@pytest.fixture(scope="module")
def mlp_run(digits, spec_for, run, tmp_path_factory):
    return run(spec_for({"name": "mlp"}, training={"epochs": 10}), digits, tmp_path_factory.mktemp("mlp"))


def test_mlp_learns_digits(mlp_run):
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
    np.testing.assert_array_equal(out.test_labels, digits.test.labels)
    assert out.best_epoch == 9  # no early stopping: the last epoch's weights are tested
    assert out.params.total == out.params.trainable == 64 * 128 + 128 + 128 * 64 + 64 + 64 * 10 + 10
    assert out.environment["frameworks"].keys() == {"torch", "torchvision"} and out.environment["device"] == "cpu"
    details = {key: out.extra[key] for key in ("precision", "channels_last", "compile", "device")}
    assert details == {"precision": "fp32", "channels_last": False, "compile": False, "device": "cpu"}
    assert out.extra["torch_threads"] == torch.get_num_threads()


def test_simple_cnn_and_frozen_resnet_run(digits_rgb32, spec_for, run, tmp_path):
    cnn = run(spec_for({"name": "simple_cnn"}, training={"epochs": 2}), digits_rgb32, tmp_path / "cnn")
    assert cnn.params.total == 2_122_186 and cnn.extra["channels_last"] is True
    spec = spec_for({"name": "resnet18"}, strategy={"freeze": "all_but_head"}, training={"epochs": 1})
    resnet = run(spec, digits_rgb32, tmp_path / "resnet")
    assert resnet.params.trainable == 5_130 and resnet.params.groups["head"]["trainable"] == 5_130
    assert resnet.extra["feature_cache"]["groups"] == RESNET18_GROUPS[:-1]
    assert resnet.test_scores.shape == (len(digits_rgb32.test), 10)


def test_describe_counts_groups_and_facts():
    description = TorchRunner().describe(ModelSpec(name="resnet18", weights="not/needed.pth"), (32, 32, 3), 10)
    assert description.group_names == RESNET18_GROUPS and description.sequential
    assert description.params.total == description.params.trainable == 11_181_642
    assert [group.params for group in description.groups] == [9_536, 147_968, 525_568, 2_099_712, 8_393_728, 5_130]
    assert all(group.has_batchnorm for group in description.groups[:-1]) and not description.groups[-1].has_batchnorm
    assert len(description.init_slots) == 102 and description.parity_note is None  # a catalog architecture


def test_describe_dropout_facts_and_sharing_facts():
    runner = TorchRunner()
    mlp = runner.describe(ModelSpec(name="mlp"), (8, 8, 1), 10)
    assert [group.has_dropout for group in mlp.groups] == [True, False, False]
    without = runner.describe(ModelSpec(name="mlp", dropout=0.0), (8, 8, 1), 10)
    assert not any(group.has_dropout for group in without.groups)  # Dropout(0) changes nothing: cacheable
    mobilenet = runner.describe(ModelSpec(name="mobilenet_v2"), (32, 32, 3), 10)
    assert mobilenet.group_names == [f"features.{index}" for index in range(19)] + ["head"]
    assert mobilenet.groups[-1].has_dropout and mobilenet.parity_note is None
    assert mobilenet.init_slots == []  # torchvision's MobileNetV2 is torch's only (keras.applications': keras_*)
    assert not runner.describe(ModelSpec(name="shufflenet_v2_x0_5"), (64, 64, 3), 4).sequential


def test_describe_round_trips_as_plain_data_and_leaves_the_rng_alone():
    torch.manual_seed(5)
    expected = torch.rand(1)
    torch.manual_seed(5)
    description = TorchRunner().describe(ModelSpec(name="simple_cnn"), (16, 16, 3), 10)
    assert torch.equal(torch.rand(1), expected)
    assert type(description).from_dict(description.to_dict()) == description


def test_torch_runs_never_load_tensorflow(tmp_path):
    code = f"""
import sys
sys.path.insert(0, {str(Path(__file__).parents[1])!r})
from pathlib import Path
from builders import digits_bundle, make_spec
from suite.runners.progress import NullProgress
from suite.training.run import execute
from torch_impl.runner import TorchRunner
spec = make_spec({{"name": "mlp"}}, training={{"epochs": 1, "tensorboard": True, "checkpoint": True}})
execute(spec, TorchRunner(), digits_bundle(), Path({str(tmp_path)!r}), NullProgress())
loaded = sorted(name for name in ("tensorflow", "keras", "jax") if name in sys.modules)
assert not loaded, loaded
"""
    subprocess.run([sys.executable, "-c", code], check=True)
    assert (tmp_path / "checkpoints" / "best.pt").is_file() and list((tmp_path / "tensorboard").iterdir())

import pytest
import torch
import torchvision

from suite.spec.models import ModelSpec
from torch_impl.freezing import configure_batchnorm, set_requires_grad, set_train_mode
from torch_impl.models import build_model
from torch_impl.params import count_params

NAMES = ["stem", "layer1", "layer2", "layer3", "layer4", "head"]

# Which groups a strategy selects, per epoch, is the plan's job: tested in tests/suite.


def test_head_only_leaves_seed_002_trainable_count():
    built = build_model(ModelSpec(name="resnet18"), (32, 32, 3), 10)
    set_requires_grad(built, ["head"])
    counts = count_params(built)
    assert counts.trainable == 5_130 and counts.frozen == counts.total - 5_130
    assert counts.groups["layer3"] == {"total": 2_099_712, "trainable": 0}


def test_frozen_batchnorm_in_eval_mode_only_when_asked():
    built = build_model(ModelSpec(name="resnet18"), (32, 32, 3), 10)
    set_train_mode(built, NAMES[2:], frozen_bn_inference=True)
    assert not built.groups["stem"][0][1].training
    assert not built.groups["layer1"][0][0].bn1.training
    assert built.groups["layer2"][0][0].bn1.training
    set_train_mode(built, NAMES[2:], frozen_bn_inference=False)
    assert all(m.training for m in built.module.modules())


def test_configure_batchnorm_sets_every_layer():
    built = build_model(ModelSpec(name="mobilenet_v2"), (32, 32, 3), 10)
    configure_batchnorm(built.module, 0.01, 1e-3)
    norms = [m for m in built.module.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert len(norms) == 52 and all((m.momentum, m.eps) == (0.01, 1e-3) for m in norms)


@pytest.mark.parametrize(("bn_mode", "changes"), [("frozen", False), ("train", True)])
def test_batchnorm_policy_of_frozen_groups(bn_mode, changes, tiny_rgb, spec_for, run, tmp_path):
    start = torchvision.models.resnet18()
    torch.save(start.state_dict(), tmp_path / "start.pth")
    spec = spec_for(
        {"name": "resnet18", "weights": str(tmp_path / "start.pth")},
        strategy={"freeze_blocks": 2, "bn_mode": bn_mode},
        training={"epochs": 1, "checkpoint": True, "feature_cache": False},
    )
    run(spec, tiny_rgb, tmp_path / "run")
    trained = torch.load(tmp_path / "run" / "checkpoints" / "last.pt", weights_only=True)["state_dict"]
    assert torch.equal(trained["bn1.weight"], start.bn1.weight)  # frozen parameters never move
    assert torch.equal(trained["bn1.running_mean"], start.bn1.running_mean) is not changes
    assert torch.equal(trained["layer1.0.bn1.running_var"], start.layer1[0].bn1.running_var) is not changes
    assert not torch.equal(trained["layer2.0.bn1.running_mean"], start.layer2[0].bn1.running_mean)  # trains


def test_gradual_unfreezing_run(digits, spec_for, run, tmp_path):
    strategy = {"freeze": "all_but_head", "unfreeze_schedule": {1: ["head"], 2: ["dense"], 3: ["conv2", "conv1"]}}
    out = run(spec_for({"name": "simple_cnn"}, strategy=strategy, training={"epochs": 3}), digits, tmp_path)
    trainable = [row["trainable_params"] for row in out.history]
    head, dense = 512 * 10 + 10, 64 * 2 * 2 * 512 + 512
    assert trainable == [head, head + dense, out.params.total]
    assert out.params.trainable == out.params.total  # counted at the end: everything was unfrozen by then
    assert out.extra["trainable_params_initial"] == head
    assert out.extra["feature_cache"]["active"] is False


def test_two_phase_finetune_continues_history(digits, spec_for, run, tmp_path):
    strategy = {"freeze": "all_but_head", "finetune": {"epochs": 2, "lr": 1e-4, "unfreeze": "all"}}
    out = run(spec_for({"name": "mlp"}, strategy=strategy, training={"epochs": 2}), digits, tmp_path)
    assert [row["epoch"] for row in out.history] == [0, 1, 2, 3]
    assert [row["phase"] for row in out.history] == [1, 1, 2, 2]
    assert [row["lr"] for row in out.history] == pytest.approx([1e-3, 1e-3, 1e-4, 1e-4])
    assert out.history[0]["trainable_params"] == 650 and out.history[2]["trainable_params"] == out.params.total
    assert out.best_epoch == 3

import pytest
import torch
import torchvision

from suite.runners.progress import NullProgress
from suite.spec.models import DiscriminativeLRSpec, ModelSpec, OptimizerSpec
from torch_impl.freezing import set_requires_grad
from torch_impl.models import build_model
from torch_impl.optim import build_optimizer, group_learning_rates, optimizer_state_steps
from torch_impl.runner import TorchRunner

NAMES = ["stem", "layer1", "layer2", "layer3", "layer4", "head"]


class Messages(NullProgress):
    def __init__(self):
        self.lines = []

    def message(self, text):
        self.lines.append(text)


def test_discriminative_lrs_reproduce_seed_004():
    rates = group_learning_rates(NAMES, 1e-3, DiscriminativeLRSpec(lr_mult=0.1))
    expected = {"head": 1e-3, "layer4": 1e-4, "layer3": 1e-5, "layer2": 1e-6, "layer1": 1e-7, "stem": 1e-8}
    assert rates == pytest.approx(expected, rel=1e-12)
    built = build_model(ModelSpec(name="resnet18"), (32, 32, 3), 3)
    optimizer = build_optimizer(OptimizerSpec(name="adam"), built, 1e-3, DiscriminativeLRSpec(lr_mult=0.1))
    assert {g["name"]: g["lr"] for g in optimizer.param_groups} == pytest.approx(expected, rel=1e-12)


def test_newly_unfrozen_group_moves_and_gets_fresh_adam_state():
    torch.manual_seed(0)
    built = build_model(ModelSpec(name="mlp"), (8, 8, 1), 4)
    optimizer = build_optimizer(OptimizerSpec(name="adamw", weight_decay=0.1), built, 1e-2, None)
    inputs, labels = torch.randn(16, 1, 8, 8), torch.randint(0, 4, (16,))

    def step():
        optimizer.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(built.module(inputs), labels).backward()
        optimizer.step()

    set_requires_grad(built, {"hidden1", "hidden2"})
    frozen_weight = built.groups["hidden1"][0][1].weight.detach().clone()
    step()
    assert torch.equal(built.groups["hidden1"][0][1].weight, frozen_weight)  # frozen: no grad, no decay
    assert optimizer_state_steps(optimizer) == {"hidden1": 0, "hidden2": 0, "head": 1}
    set_requires_grad(built, {"hidden2"})
    step()
    assert not torch.equal(built.groups["hidden1"][0][1].weight, frozen_weight)
    assert optimizer_state_steps(optimizer) == {"hidden1": 1, "hidden2": 0, "head": 2}
    state = optimizer.state[built.groups["hidden1"][0][1].weight]
    assert torch.isfinite(state["exp_avg"]).all() and (state["exp_avg_sq"] >= 0).all()


def test_gradual_unfreezing_run(digits, spec_for, tmp_path):
    strategy = {"freeze": "all_but_head", "unfreeze_schedule": {0: ["head"], 1: ["dense"], 2: ["conv2", "conv1"]}}
    spec = spec_for({"name": "simple_cnn"}, strategy=strategy, training={"epochs": 3})
    progress = Messages()
    out = TorchRunner().run(spec, digits, tmp_path, progress)
    trainable = [row["trainable_params"] for row in out.history]
    head, dense = 512 * 10 + 10, 64 * 2 * 2 * 512 + 512
    assert trainable == [head, head + dense, out.params.total]
    assert out.params.trainable == out.params.total  # counted at the end: everything was unfrozen by then
    assert out.extra["trainable_params_initial"] == head
    assert progress.lines == ["epoch 1: unfroze dense", "epoch 2: unfroze conv1, conv2"]
    assert out.extra["feature_cache"]["active"] is False


def test_two_phase_finetune_continues_history(digits, spec_for, tmp_path):
    strategy = {"freeze": "all_but_head", "finetune": {"epochs": 2, "lr": 1e-4, "unfreeze": "all"}}
    out = TorchRunner().run(spec_for({"name": "mlp"}, strategy=strategy, training={"epochs": 2}), digits, tmp_path)
    assert [row["epoch"] for row in out.history] == [0, 1, 2, 3]
    assert [row["phase"] for row in out.history] == [1, 1, 2, 2]
    assert [row["lr"] for row in out.history] == pytest.approx([1e-3, 1e-3, 1e-4, 1e-4])
    assert out.history[0]["trainable_params"] == 650 and out.history[2]["trainable_params"] == out.params.total
    assert out.best_epoch == 3


@pytest.mark.parametrize(("bn_mode", "changes"), [("frozen", False), ("train", True)])
def test_batchnorm_policy_of_frozen_groups(bn_mode, changes, tiny_rgb, spec_for, tmp_path):
    start = torchvision.models.resnet18()
    torch.save(start.state_dict(), tmp_path / "start.pth")
    spec = spec_for(
        {"name": "resnet18", "weights": str(tmp_path / "start.pth")},
        strategy={"freeze_blocks": 2, "bn_mode": bn_mode},
        training={"epochs": 1, "checkpoint": True, "feature_cache": False},
    )
    TorchRunner().run(spec, tiny_rgb, tmp_path / "run")
    trained = torch.load(tmp_path / "run" / "checkpoints" / "last.pt", weights_only=True)["state_dict"]
    assert torch.equal(trained["stem.1.weight"], start.bn1.weight)  # frozen parameters never move
    assert torch.equal(trained["stem.1.running_mean"], start.bn1.running_mean) is not changes
    assert torch.equal(trained["layer1.0.bn1.running_var"], start.layer1[0].bn1.running_var) is not changes
    assert not torch.equal(trained["layer2.0.bn1.running_mean"], start.layer2[0].bn1.running_mean)  # trains


@pytest.mark.filterwarnings("ignore:Detected call of")
def test_cosine_floor_lifts_tiny_discriminative_lrs_as_torch_does():
    """Seed 004 combines lr_mult 0.1 with eta_min 1e-6: the absolute floor raises the stem from 1e-8 to ~1e-6."""
    from suite.spec.models import SchedulerSpec
    from torch_impl.optim import EpochScheduler

    built = build_model(ModelSpec(name="resnet18"), (32, 32, 3), 3)
    optimizer = build_optimizer(OptimizerSpec(), built, 1e-3, DiscriminativeLRSpec(lr_mult=0.1))
    scheduler = EpochScheduler(SchedulerSpec(name="cosine", warmup_epochs=3, eta_min=1e-6), optimizer, 20)
    for _ in range(19):
        scheduler.step({})
    last = {group["name"]: group["lr"] for group in optimizer.param_groups}
    assert last["stem"] == pytest.approx(9.92e-7, rel=1e-2) and last["layer1"] == pytest.approx(9.92e-7, rel=1e-2)
    assert last["head"] == pytest.approx(9.5e-6, rel=1e-2)


def test_history_records_every_group_lr_with_discriminative_lrs(digits, spec_for, tmp_path):
    strategy = {"discriminative_lr": {"lr_mult": 0.5}}
    out = TorchRunner().run(spec_for({"name": "mlp"}, strategy=strategy, training={"epochs": 1}), digits, tmp_path)
    row = out.history[0]
    assert (row["lr_head"], row["lr_hidden2"], row["lr_hidden1"]) == pytest.approx((1e-3, 5e-4, 2.5e-4))
    assert row["lr"] == row["lr_head"]

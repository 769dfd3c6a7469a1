import numpy as np
import pytest
import torch
from torch.optim.lr_scheduler import CosineAnnealingLR, LinearLR, SequentialLR

from suite.runners.progress import NullProgress
from suite.spec.models import ModelSpec, OptimizerSpec, SchedulerSpec
from suite.timing import ThroughputMeter
from torch_impl.callbacks import BestTracker
from torch_impl.loop import StepContext, train_one_epoch
from torch_impl.models import build_model
from torch_impl.optim import EpochScheduler, build_optimizer
from torch_impl.precision import Numerics
from torch_impl.runner import TorchRunner

pytestmark = pytest.mark.filterwarnings(r"ignore:Detected call of `lr_scheduler.step\(\)` before")


def lr_sequence(spec: SchedulerSpec, epochs: int, metrics=None) -> list[float]:
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1e-3)
    scheduler = EpochScheduler(spec, optimizer, epochs)
    lrs = []
    for epoch in range(epochs):
        lrs.append(optimizer.param_groups[0]["lr"])
        scheduler.step({"val_loss": metrics[epoch] if metrics else 0.0, "val_accuracy": 0.0})
    return lrs


def test_warmup_cosine_equals_seed_004_torch_schedulers():
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1e-3)
    warmup = LinearLR(optimizer, start_factor=0.1, end_factor=1.0, total_iters=3)
    cosine = CosineAnnealingLR(optimizer, T_max=20 - 3, eta_min=1e-6)
    reference = SequentialLR(optimizer, schedulers=[warmup, cosine], milestones=[3])
    expected = []
    for _ in range(20):
        expected.append(optimizer.param_groups[0]["lr"])
        reference.step()
    ours = lr_sequence(SchedulerSpec(name="cosine", warmup_epochs=3, warmup_start_factor=0.1, eta_min=1e-6), 20)
    assert ours == pytest.approx(expected, rel=1e-12)
    assert ours[0] == pytest.approx(1e-4) and ours[3] == pytest.approx(1e-3) and min(ours) > 1e-6


def test_plateau_halves_after_patience_as_seed_001():
    losses = [1.0, 0.9, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95]
    lrs = lr_sequence(SchedulerSpec(name="plateau", factor=0.5, patience=3, monitor="val_loss"), 8, losses)
    assert lrs == pytest.approx([1e-3] * 6 + [5e-4] * 2)


def test_step_schedule():
    assert lr_sequence(SchedulerSpec(name="step", step_size=2, gamma=0.5), 5) == pytest.approx(
        [1e-3, 1e-3, 5e-4, 5e-4, 2.5e-4]
    )


def test_best_tracker_patience_and_min_delta():
    tracker = BestTracker("val_accuracy", patience=2, min_delta=0.01)
    improved = [tracker.update(e, {"val_accuracy": v}) for e, v in enumerate([0.5, 0.505, 0.6, 0.6, 0.605])]
    assert improved == [True, False, True, False, False] and tracker.should_stop and tracker.best_epoch == 2


def test_grad_clip_bounds_each_update():
    torch.manual_seed(0)
    built = build_model(ModelSpec(name="mlp"), (8, 8, 1), 4)
    optimizer = build_optimizer(OptimizerSpec(name="sgd"), built, 1.0, None)
    before = torch.cat([p.detach().flatten().clone() for p in built.module.parameters()])
    context = StepContext(
        built.module, optimizer, Numerics(torch.device("cpu"), "fp32", False), ThroughputMeter(0), NullProgress(),
        grad_clip=1e-3,
    )  # fmt: skip
    train_one_epoch(context, [(torch.randn(8, 1, 8, 8) * 100, torch.randint(0, 4, (8,)))])
    after = torch.cat([p.detach().flatten() for p in built.module.parameters()])
    assert 0 < float((after - before).norm()) <= 1e-3 + 1e-9


def test_early_stopping_restores_best_weights_and_checkpoints(digits, spec_for, tmp_path):
    runner = TorchRunner()
    stopping = {"monitor": "val_loss", "patience": 2, "min_delta": 10.0, "restore_best": True}
    spec = spec_for({"name": "mlp"}, training={"epochs": 10, "early_stopping": stopping, "checkpoint": True})
    out = runner.run(spec, digits, tmp_path / "stopped")
    assert len(out.history) == 3 and out.best_epoch == 0  # epochs 1 and 2 cannot beat epoch 0 by 10
    one_epoch = runner.run(spec_for({"name": "mlp"}, training={"epochs": 1}), digits, tmp_path / "one")
    np.testing.assert_allclose(out.test_scores, one_epoch.test_scores, atol=1e-6)  # epoch-0 weights tested
    checkpoints = tmp_path / "stopped" / "checkpoints"
    assert torch.load(checkpoints / "best.pt", weights_only=True)["epoch"] == 0
    assert torch.load(checkpoints / "last.pt", weights_only=True)["epoch"] == 2


def test_run_logs_scheduled_lr(digits, spec_for, tmp_path):
    scheduler = {"name": "cosine", "warmup_epochs": 1, "warmup_start_factor": 0.5, "eta_min": 0.0}
    out = TorchRunner().run(spec_for({"name": "mlp"}, training={"epochs": 3, "scheduler": scheduler}), digits, tmp_path)
    assert [row["lr"] for row in out.history] == pytest.approx([5e-4, 1e-3, 5e-4])

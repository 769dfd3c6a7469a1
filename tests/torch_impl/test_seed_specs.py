import urllib.error
from pathlib import Path

import numpy as np
import pytest
import torch
import torchvision
from sklearn.datasets import load_digits

from suite.data.loading import load_bundle
from suite.runners.progress import NullProgress
from suite.spec.loader import load_study
from suite.training.run import execute, plan_for
from torch_impl.runner import TorchRunner

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
SHRINK = ["training.epochs=1", "dataset.subset.train=16", "dataset.subset.val=8", "dataset.subset.test=8"]
EXPECTED_RUNS = {
    "efficiency_resnet18_freezing": 8,  # freeze_blocks 0..5, BitFit, LoRA r=8
    "seed000_beans_freezing": 9,  # 6 + 3 with augmentation
    "seed001_animals_depth": 11,
    "seed002_mnist_mlp_vs_resnet": 2,
    "seed004_finetune_strategies": 4,  # plus the 4 recipes in Keras
}


@pytest.mark.parametrize("name", sorted(EXPECTED_RUNS))
def test_seed_spec_loads_and_passes_check(name):
    study = load_study(BENCHMARKS / f"{name}.toml", overrides=SHRINK)
    runs = [run for run in study.runs if run.backend == "torch"]
    assert len(runs) == EXPECTED_RUNS[name]
    runner = TorchRunner()
    for run in runs:
        assert run.training.epochs == 1
        assert runner.check(run) == [], run.name
        shape = (32, 32, run.dataset.channels or 1)
        plan_for(run, runner.describe(run.model, shape, 3))  # group names resolve on torch's groups


def test_seed_specs_carry_the_seed_settings():
    beans = [run for run in load_study(BENCHMARKS / "seed000_beans_freezing.toml").runs if run.backend == "torch"]
    assert [run.strategy.freeze_blocks for run in beans] == [0, 1, 2, 3, 4, 5, 0, 3, 5]
    assert [run.dataset.augment is not None for run in beans] == [False] * 6 + [True] * 3
    first = beans[0]
    assert (first.optimizer.lr, first.training.batch_size, first.training.epochs) == (1e-4, 16, 30)
    assert first.training.early_stopping.patience == 10 and first.training.deterministic and first.training.checkpoint
    animals = {run.name: run for run in load_study(BENCHMARKS / "seed001_animals_depth.toml").runs}
    plateau = animals["resnet18_depth[depth=2]"].training.scheduler
    assert (plateau.name, plateau.factor, plateau.patience) == ("plateau", 0.5, 3)
    assert (
        animals["resnet18_depth[depth=2]"].model.depth == 2
        and animals["resnet18_freeze[freeze_blocks=0]"].optimizer.name == "adamw"
    )
    recipes = {run.name: run for run in load_study(BENCHMARKS / "seed004_finetune_strategies.toml").runs}
    assert recipes["gradual_unfreezing"].strategy.unfreeze_schedule == {
        1: ["head"],
        3: ["layer4"],
        5: ["layer3"],
        7: ["layer2"],
    }
    assert recipes["discriminative_lr"].strategy.discriminative_lr.lr_mult == 0.1
    assert recipes["full_finetune"].training.scheduler.warmup_epochs == 3


def _fake_mnist(path: Path) -> Path:
    """Digits upscaled to 28x28 in keras' mnist.npz layout (x_train, y_train, x_test, y_test)."""
    digits = load_digits()
    images = np.kron(np.round(digits.images * 255 / 16), np.ones((3, 3)))
    images = np.pad(images, ((0, 0), (2, 2), (2, 2))).astype(np.uint8)
    labels = digits.target.astype(np.uint8)
    np.savez(path, x_train=images[:400], y_train=labels[:400], x_test=images[400:500], y_test=labels[400:500])
    return path


def test_seed002_runs_shrunk_on_fake_mnist(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setattr(
        torch.hub, "download_url_to_file", lambda *a, **k: (_ for _ in ()).throw(urllib.error.URLError("offline"))
    )
    checkpoints = tmp_path / "torch" / "hub" / "checkpoints"
    checkpoints.mkdir(parents=True)
    torch.save(torchvision.models.resnet18().state_dict(), checkpoints / "resnet18-f37072fd.pth")
    overrides = [f"dataset.path={_fake_mnist(tmp_path / 'mnist.npz')}", "training.epochs=1", "dataset.image_size=32",
                 "dataset.subset.train=128", "dataset.subset.val=64"]  # fmt: skip
    study = load_study(BENCHMARKS / "seed002_mnist_mlp_vs_resnet.toml", overrides=overrides)
    runner = TorchRunner()
    for spec in study.runs:
        data = load_bundle(spec.dataset, seed=spec.seed)
        out = execute(spec, runner, data, tmp_path / spec.name, NullProgress())
        assert out.test_scores.shape == (100, 10) and len(out.history) == 1
    assert out.params.trainable == 5_130 and out.extra["feature_cache"]["active"]

"""Seed 003's study: its runs in both frameworks, each passing its runner's check, with the seed's numbers."""

import os
from pathlib import Path

import pytest

from suite.runners.registry import create_runner, discover

SPEC = Path(__file__).resolve().parents[1] / "benchmarks" / "seed003_cifar10.toml"
TORCH_RUNS = {
    "simple_cnn[backend=torch]",
    "simple_cnn_augmented[backend=torch]",
    *(f"transfer_sweep[model=keras_{name},backend=torch]" for name in ("resnet50", "resnet101", "resnet152")),
    *(f"transfer_sweep[model=keras_{name},backend=torch]" for name in ("vgg16", "vgg19")),
    *(
        f"mobilenet_v2_{name}[backend=torch]"
        for name in ("frozen", "finetuned", "improved_head", "finetuned_augmented")
    ),
    *(
        f"transfer_sweep_mbconv[model=keras_{name},backend=torch]"
        for name in ("efficientnet_b0", "efficientnet_b3", "mobilenet_v2", "mobilenet_v3_large")
    ),
}

pytestmark = [
    pytest.mark.skipif(
        not all(entry.availability()[0] for entry in discover().values()), reason="needs both backends installed"
    ),
    pytest.mark.skipif(
        os.environ.get("KERAS_BACKEND", "tensorflow") != "tensorflow",
        reason="the seed study runs on the default engine (TensorFlow); this process's Keras is on another engine",
    ),
]


def by_augment(runs):
    return {run.name for run in runs if run.dataset.augment is not None}


def test_seed003_study_loads_shrinks_and_passes_each_runners_check():
    from suite.spec.loader import load_study

    study = load_study(SPEC, overrides=["training.epochs=1", "dataset.subset.train=64"])
    names = [run.name for run in study.runs]
    assert len(names) == 31 and TORCH_RUNS <= set(names)
    assert by_augment(study.runs) == {
        "simple_cnn_augmented[backend=keras]",
        "simple_cnn_augmented[backend=torch]",
        "mobilenet_v2_finetuned_augmented[backend=keras]",
        "mobilenet_v2_finetuned_augmented[backend=torch]",
    }
    assert "transfer_sweep_mbconv[model=keras_efficientnet_b3,backend=keras]" in names
    by_name = {run.name: run for run in study.runs}
    finetuned = by_name["mobilenet_v2_finetuned[backend=keras]"]
    assert finetuned.strategy.finetune.unfreeze_last_layers == 10 and finetuned.strategy.finetune.lr == 1e-4
    assert by_name["simple_cnn[backend=torch]"].training.early_stopping.patience == 3
    resnet = by_name["transfer_sweep[model=keras_resnet50,backend=torch]"].model
    assert (resnet.bn_momentum, resnet.bn_epsilon) == (0.01, 1.001e-5)  # keras.applications' own BatchNorm
    runners = {name: create_runner(name) for name in ("keras", "torch")}
    for run in study.runs:
        assert run.training.epochs == 1 and run.dataset.subset.train == 64
        assert (run.backend == "torch") == (run.name in TORCH_RUNS), run.name
        assert runners[run.backend].check(run) == [], run.name

import os
from pathlib import Path

import pytest

SPEC = Path(__file__).resolve().parents[2] / "benchmarks" / "seed003_cifar10_keras.toml"


def by_augment(runs):
    return {run.name for run in runs if run.dataset.augment is not None}


@pytest.mark.skipif(
    os.environ.get("KERAS_BACKEND", "tensorflow") != "tensorflow",
    reason="the seed study runs on the default engine (TensorFlow); this process's Keras is on another engine",
)
def test_seed003_study_loads_shrinks_and_passes_keras_check(runner):
    loader = pytest.importorskip("suite.spec.loader")
    study = loader.load_study(SPEC, overrides=["training.epochs=1", "dataset.subset.train=64"])
    names = [run.name for run in study.runs]
    assert len(names) == 16
    assert by_augment(study.runs) == {"simple_cnn_augmented", "mobilenet_v2_finetuned_augmented"}
    assert "transfer_sweep[model=efficientnet_b3]" in names
    by_name = {run.name: run for run in study.runs}
    finetuned = by_name["mobilenet_v2_finetuned"]
    assert finetuned.strategy.finetune.unfreeze_last_layers == 10 and finetuned.strategy.finetune.lr == 1e-4
    assert by_name["simple_cnn"].training.early_stopping.patience == 3
    for run in study.runs:
        assert run.backend == "keras" and run.training.epochs == 1 and run.dataset.subset.train == 64
        assert runner.check(run) == [], run.name

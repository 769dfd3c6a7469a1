"""Strategies the plan drives through the Keras session: discriminative LRs, gradual unfreezing, seed 003."""

import json

import keras
import numpy as np
import pytest
from builders import keras_spec

from suite.plan import EpochSchedule
from suite.plan.schedule import scheduled_lr
from suite.spec.models import SchedulerSpec


@pytest.fixture(scope="module")
def gradual_run(runner, digits, tmp_path_factory):
    from suite.runners.progress import NullProgress
    from suite.training.run import execute

    scheduler = {"name": "cosine", "warmup_epochs": 1}
    spec = keras_spec(
        {"name": "simple_cnn"},
        optimizer={"name": "adamw", "lr": 3e-3, "weight_decay": 0.01},
        strategy={
            "freeze": "all_but_head",
            "discriminative_lr": {"lr_mult": 0.1},
            "unfreeze_schedule": {2: ["last:1"], 3: ["conv1", "conv2"]},
        },
        training={"epochs": 4, "scheduler": scheduler},
    )
    directory = tmp_path_factory.mktemp("gradual")
    return execute(spec, runner, digits, directory, NullProgress()), directory


def test_discriminative_rates_follow_the_plan(gradual_run):
    output, directory = gradual_run
    plan = json.loads((directory / "plan.json").read_text())
    scheduler = SchedulerSpec(name="cosine", warmup_epochs=1)
    for row, planned in zip(output.history, EpochSchedule.from_stored(plan["epochs"]), strict=True):
        assert {name: row[f"lr_{name}"] for name in planned.rates} == pytest.approx(planned.rates)
        assert row["lr_dense"] == pytest.approx(scheduled_lr(scheduler, 3e-4, row["epoch"], 4))


def test_gradual_unfreezing_trains_what_the_plan_says(gradual_run):
    output, _ = gradual_run
    head, dense, convs = 5_130, 2 * 2 * 64 * 512 + 512, 9 * 32 + 32 + 18_496  # 8x8x1 digits
    assert [row["trainable_params"] for row in output.history] == [head, head + dense] + [head + dense + convs] * 2
    assert output.params.trainable == output.params.total
    assert float(np.mean(output.test_scores.argmax(axis=1) == output.test_labels)) > 0.5


@pytest.mark.slow
def test_seed003_finetunes_the_last_10_layers(run, digits_rgb32):
    spec = keras_spec(
        {"name": "keras_mobilenet_v2", "head": "flatten"},
        strategy={"freeze": "all_but_head", "finetune": {"epochs": 1, "lr": 1e-4, "unfreeze_last_layers": 10}},
        training={"epochs": 1, "batch_size": 32},
    )
    output = run(spec, digits_rgb32)
    assert [row["phase"] for row in output.history] == [1, 2]
    assert [row["trainable_params"] for row in output.history] == [12_810, 745_290]
    assert [row["lr"] for row in output.history] == pytest.approx([1e-3, 1e-4])
    assert output.params.trainable == 745_290
    assert not output.extra["feature_cache"]["active"]
    assert keras.config.dtype_policy().name == "float32"

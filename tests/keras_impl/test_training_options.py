import math

import keras
import numpy as np
import pytest
from builders import keras_spec as make_spec

from keras_impl.optim import make_optimizer
from keras_impl.schedules import lr_at
from suite.runners.progress import NullProgress
from suite.spec.models import OptimizerSpec, SchedulerSpec


def _run(runner, digits, tmp_path, **sections):
    spec = make_spec({"name": "mlp"}, **sections)
    assert runner.check(spec) == []
    return runner.run(spec, digits, tmp_path, NullProgress())


def test_early_stopping_restores_best_epoch(runner, digits, tmp_path):
    output = _run(
        runner,
        digits,
        tmp_path,
        optimizer={"name": "sgd", "lr": 2.0},
        training={"epochs": 25, "early_stopping": {"patience": 1, "monitor": "val_loss"}},
    )
    losses = [row["val_loss"] for row in output.history]
    best = int(np.nanargmin(losses))
    assert output.best_epoch == best
    if len(losses) < 25:
        assert len(losses) == best + 2  # stopped after patience=1 epoch without improvement
    assert output.extra["phases"][0]["stopped_early"] == (len(losses) < 25)


def test_checkpoint_and_tensorboard_files(runner, digits, tmp_path):
    _run(
        runner,
        digits,
        tmp_path,
        training={"epochs": 2, "checkpoint": True, "tensorboard": True, "log_every_n_steps": 5},
    )
    assert (tmp_path / "checkpoints" / "best.weights.h5").is_file()
    assert (tmp_path / "checkpoints" / "last.weights.h5").is_file()
    assert any(path.name.startswith("events.out") for path in (tmp_path / "tensorboard").rglob("*"))


def test_cosine_with_warmup_lr_column(runner, digits, tmp_path):
    scheduler = {"name": "cosine", "warmup_epochs": 1, "warmup_start_factor": 0.1, "eta_min": 1e-5}
    output = _run(runner, digits, tmp_path, training={"epochs": 4, "scheduler": scheduler})
    spec = SchedulerSpec(**scheduler)
    expected = [lr_at(spec, 1e-3, epoch, 4) for epoch in range(4)]
    assert [row["lr"] for row in output.history] == pytest.approx(expected, rel=1e-5)


def test_lr_formulas():
    cosine = SchedulerSpec(name="cosine", warmup_epochs=2, warmup_start_factor=0.1, eta_min=0.0)
    assert lr_at(cosine, 1.0, 0, 10) == pytest.approx(0.1)
    assert lr_at(cosine, 1.0, 1, 10) == pytest.approx(0.55)
    assert lr_at(cosine, 1.0, 2, 10) == pytest.approx(1.0)
    assert lr_at(cosine, 1.0, 6, 10) == pytest.approx(0.5 * (1 + math.cos(math.pi * 4 / 8)))
    step = SchedulerSpec(name="step", step_size=3, gamma=0.5)
    assert [lr_at(step, 1.0, epoch, 9) for epoch in (0, 2, 3, 6)] == [1.0, 1.0, 0.5, 0.25]
    assert lr_at(SchedulerSpec(name="plateau"), 1.0, 3, 9) is None


def test_plateau_reduces_lr(runner, digits, tmp_path):
    output = _run(
        runner,
        digits,
        tmp_path,
        optimizer={"name": "sgd", "lr": 3.0},
        training={"epochs": 6, "scheduler": {"name": "plateau", "patience": 0, "factor": 0.5}},
    )
    lrs = [row["lr"] for row in output.history]
    assert min(lrs) < 3.0 and all(later <= earlier for earlier, later in zip(lrs, lrs[1:], strict=False))


def test_bf16_policy_keeps_float32_probabilities(runner, digits, tmp_path):
    output = _run(runner, digits, tmp_path, training={"epochs": 3, "precision": "bf16"})
    assert output.extra["dtype_policy"] == "mixed_bfloat16"
    assert output.test_scores.dtype == np.float32
    np.testing.assert_allclose(output.test_scores.sum(axis=1), 1.0, atol=1e-3)
    assert np.mean(output.test_scores.argmax(1) == output.test_labels) > 0.5
    assert keras.config.dtype_policy().name == "float32"  # restored after the run


def test_deterministic_runs_are_identical(runner, digits, tmp_path):
    first = _run(runner, digits, tmp_path / "a", training={"epochs": 1, "deterministic": True})
    second = _run(runner, digits, tmp_path / "b", training={"epochs": 1, "deterministic": True})
    np.testing.assert_array_equal(first.test_scores, second.test_scores)
    assert first.extra["determinism"]
    if keras.backend.backend() == "tensorflow":
        from tensorflow.python.framework import config as tf_config

        assert not tf_config.is_op_determinism_enabled()  # the process-global switch is restored


@pytest.mark.parametrize("name", ["sgd", "adam"])
def test_weight_decay_is_coupled_l2_like_torch(name):
    variable = keras.Variable(np.array([1.0, -2.0], dtype="float32"))
    gradient = np.array([0.5, 0.5], dtype="float32")
    optimizer = make_optimizer(OptimizerSpec(name=name, lr=0.1, weight_decay=0.1), 0.1, None)
    optimizer.apply([keras.ops.convert_to_tensor(gradient)], [variable])
    effective = gradient + 0.1 * np.array([1.0, -2.0])
    if name == "sgd":
        expected = np.array([1.0, -2.0]) - 0.1 * effective
    else:  # first Adam step moves each weight by lr * sign(effective gradient)
        expected = np.array([1.0, -2.0]) - 0.1 * np.sign(effective)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(variable), expected, rtol=1e-4)


def test_adamw_decay_is_decoupled():
    optimizer = make_optimizer(OptimizerSpec(name="adamw", lr=0.1, weight_decay=0.5), 0.1, None)
    assert isinstance(optimizer, keras.optimizers.AdamW) and optimizer.weight_decay == 0.5


def test_grad_clip_is_global_norm():
    optimizer = make_optimizer(OptimizerSpec(name="sgd", lr=0.1), 0.1, grad_clip=1.0)
    variable = keras.Variable(np.zeros(2, dtype="float32"))
    optimizer.apply([keras.ops.convert_to_tensor(np.array([3.0, 4.0], dtype="float32"))], [variable])
    np.testing.assert_allclose(keras.ops.convert_to_numpy(variable), [-0.06, -0.08], rtol=1e-5)  # norm 5 -> 1


def test_compile_flag_turns_on_jit(runner, digits, tmp_path):
    output = _run(runner, digits, tmp_path, training={"epochs": 1, "compile": True})
    assert output.extra["phases"][0]["jit_compile"] is True
    assert np.isfinite(output.history[0]["train_loss"])

"""KerasSession through the core's executor, and its primitives one by one."""

import keras
import numpy as np
import pytest
from builders import keras_spec

from suite.runners.protocol import HISTORY_COLUMNS, TrainableSet

MLP_PARAMS = 8 * 8 * 128 + 128 + 128 * 64 + 64 + 64 * 10 + 10


@pytest.fixture(scope="module")
def mlp_output(runner, digits, tmp_path_factory):
    from suite.runners.progress import NullProgress
    from suite.training.run import execute

    spec = keras_spec({"name": "mlp"}, optimizer={"name": "adam", "lr": 3e-3}, training={"epochs": 6})
    return execute(spec, runner, digits, tmp_path_factory.mktemp("mlp"), NullProgress())


def test_mlp_learns_digits_through_the_core_loop(mlp_output, digits):
    output = mlp_output
    assert float(np.mean(output.test_scores.argmax(axis=1) == output.test_labels)) > 0.9
    np.testing.assert_array_equal(output.test_labels, digits.test.labels)
    assert [row["epoch"] for row in output.history] == list(range(6))
    assert all(set(HISTORY_COLUMNS) <= set(row) for row in output.history)
    assert output.history[-1]["train_loss"] < output.history[0]["train_loss"] * 0.5
    assert (output.params.total, output.params.trainable) == (MLP_PARAMS, MLP_PARAMS)
    assert output.timing.warmup_batches_excluded == 2 and output.timing.train_images_per_second > 0
    env, extra = output.environment, output.extra
    assert env["frameworks"]["keras"] and env["frameworks"][extra["engine"]]
    assert extra["dtype_policy"] == "float32" and "jit_compile" in extra


def test_train_step_returns_the_batch_loss_and_correct_count(session):
    opened, plan, _ = session(keras_spec({"name": "mlp", "dropout": 0.0}), (8, 8, 1))
    inputs = np.random.default_rng(0).random((16, 8, 8, 1), dtype=np.float32)
    labels = np.arange(16) % 10
    first = plan.epochs[0]
    logits = opened.predict(inputs)  # works before any phase began (the parity probe does this)
    assert logits.dtype == np.float32 and logits.shape == (16, 10)
    opened.begin_phase(plan.trainable_set(first), dict.fromkeys(first.rates, 0.0))
    loss, correct = opened.train_step(inputs, labels)
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    assert loss == pytest.approx(float(-log_probs[np.arange(16), labels].mean()), rel=1e-5)
    assert correct == int((logits.argmax(axis=1) == labels).sum())
    np.testing.assert_allclose(opened.predict(inputs), logits, rtol=1e-6)  # lr 0: nothing moved


def test_unfreezing_keeps_the_state_of_training_variables_and_starts_new_ones_fresh(session):
    opened, _, _ = session(keras_spec({"name": "mlp"}), (8, 8, 1))
    inputs = np.random.default_rng(0).random((8, 8, 8, 1), dtype=np.float32)
    labels = np.arange(8)
    rates = {"hidden1": 1e-3, "hidden2": 1e-3, "head": 1e-3}
    opened.begin_phase(TrainableSet(("head",)), rates)
    opened.train_step(inputs, labels)
    opened.train_step(inputs, labels)
    opened.set_trainable(TrainableSet(("hidden2", "head")))
    opened.train_step(inputs, labels)
    steps = _steps(opened)
    assert steps == {"logits/kernel": 3, "logits/bias": 3, "hidden2/kernel": 1, "hidden2/bias": 1}
    opened.begin_phase(TrainableSet(("hidden1", "hidden2", "head")), rates)  # a new phase: a fresh optimizer
    assert set(_steps(opened).values()) == {0}


def _steps(opened) -> dict[str, int]:
    optimizer = opened._optimizer
    return {
        variable.path: int(keras.ops.convert_to_numpy(step))
        for variable, step in zip(optimizer._trainable_variables, optimizer.steps, strict=True)
    }


def test_batchnorm_takes_the_plans_momentum_and_epsilon(session):
    spec = keras_spec(
        {"name": "keras_mobilenet_v2", "bn_momentum": 0.01, "bn_epsilon": 1e-3}, strategy={"freeze": "none"}
    )
    opened, _, _ = session(spec, (32, 32, 3))
    layers = [layer for layer in opened.built.model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert len(layers) == 52
    assert {(round(layer.momentum, 6), layer.epsilon) for layer in layers} == {(0.99, 1e-3)}


def test_snapshot_restore_and_checkpoint(session, tmp_path):
    opened, plan, _ = session(keras_spec({"name": "mlp"}), (8, 8, 1))
    inputs = np.random.default_rng(0).random((8, 8, 8, 1), dtype=np.float32)
    before = opened.predict(inputs)
    saved = opened.snapshot()
    opened.begin_phase(plan.trainable_set(plan.epochs[0]), {"hidden1": 0.1, "hidden2": 0.1, "head": 0.1})
    opened.train_step(inputs, np.arange(8))
    assert not np.allclose(opened.predict(inputs), before)
    opened.restore(saved)
    np.testing.assert_array_equal(opened.predict(inputs), before)
    path = opened.save_checkpoint(tmp_path / "checkpoints", "best")
    assert path == tmp_path / "checkpoints" / "best.weights.h5" and path.is_file()


def test_same_seed_same_result(run, digits):
    spec = keras_spec({"name": "mlp"}, training={"epochs": 1, "deterministic": True})
    first, second = run(spec, digits), run(spec, digits)
    np.testing.assert_array_equal(first.test_scores, second.test_scores)
    assert first.extra["determinism"]
    if keras.backend.backend() == "tensorflow":
        from tensorflow.python.framework import config as tf_config

        assert not tf_config.is_op_determinism_enabled()  # the process-global switch is restored on close


def test_bf16_policy_keeps_float32_logits(run, digits):
    output = run(keras_spec({"name": "mlp"}, training={"epochs": 2, "precision": "bf16"}), digits)
    assert output.extra["dtype_policy"] == "mixed_bfloat16"
    assert output.test_scores.dtype == np.float32
    assert np.mean(output.test_scores.argmax(1) == output.test_labels) > 0.5
    assert keras.config.dtype_policy().name == "float32"  # restored when the session closed


def test_compile_flag_turns_on_jit(run, digits):
    output = run(keras_spec({"name": "mlp"}, training={"epochs": 1, "compile": True}), digits)
    assert output.extra["jit_compile"] is True
    assert np.isfinite(output.history[0]["train_loss"])

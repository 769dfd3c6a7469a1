import numpy as np
import pytest
import torch

from suite.environment import cpu_supports_bf16
from suite.runners.protocol import TrainableSet
from suite.spec.models import ModelSpec
from torch_impl.models import build_model
from torch_impl.runner import TorchRunner

ROW_KEYS = ("train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr")
RESNET18 = ("stem", "layer1", "layer2", "layer3", "layer4", "head")


def without_seconds(history):
    return [{key: row[key] for key in ROW_KEYS} for row in history]


def batch(data, size=16):
    return data.preprocessing.apply(data.train.images[:size]), data.train.labels[:size]


def test_train_step_moves_trainable_weights_only(digits, spec_for, session_for):
    with session_for(spec_for({"name": "mlp"}), digits) as session:
        session.begin_phase(TrainableSet(("hidden2", "head")), dict.fromkeys(("hidden1", "hidden2", "head"), 1e-2))
        before = session.snapshot()
        loss, correct = session.train_step(*batch(digits))
        after = session.built.module.state_dict()
    assert isinstance(loss, float) and loss > 0 and isinstance(correct, int) and 0 <= correct <= 16
    assert torch.equal(after["hidden1.1.weight"], before["hidden1.1.weight"])
    assert not torch.equal(after["head.weight"], before["head.weight"])


def test_predict_takes_nhwc_and_returns_eval_logits(digits_rgb32, spec_for, session_for):
    images, _ = batch(digits_rgb32, 4)
    with session_for(spec_for({"name": "simple_cnn"}), digits_rgb32) as session:
        logits = session.predict(images)
        module = session.built.module
        assert not module.training and session.numerics.channels_last
        with torch.no_grad():
            expected = module(torch.from_numpy(images).permute(0, 3, 1, 2).contiguous()).numpy()
    assert logits.dtype == np.float32 and logits.shape == (4, 10)
    np.testing.assert_allclose(logits, expected, rtol=1e-5, atol=1e-6)


def test_train_mode_with_frozen_batchnorm_is_reapplied_after_predict(tiny_rgb, spec_for, session_for):
    with session_for(spec_for({"name": "resnet18"}), tiny_rgb) as session:
        session.begin_phase(TrainableSet(RESNET18[2:]), dict.fromkeys(RESNET18, 1e-3))
        images, labels = batch(tiny_rgb, 8)
        session.predict(images)
        session.train_step(images, labels)
        groups = session.built.groups
        assert not groups["stem"][0][1].training and not groups["layer1"][0][0].bn1.training
        assert groups["layer2"][0][0].bn1.training and session.built.module.training
        session.set_trainable(TrainableSet(RESNET18[2:], frozen_bn_inference=False))
        session.train_step(images, labels)
        assert all(module.training for module in session.built.module.modules())


def test_plan_hyperparameters_reach_batchnorm_and_adam(tiny_rgb, spec_for, session_for):
    spec = spec_for(
        {"name": "resnet18", "bn_momentum": 0.01, "bn_epsilon": 1e-3}, optimizer={"name": "adamw", "epsilon": 1e-7}
    )
    with session_for(spec, tiny_rgb) as session:
        session.begin_phase(TrainableSet(RESNET18), dict.fromkeys(RESNET18, 1e-3))
        norms = [m for m in session.built.module.modules() if isinstance(m, torch.nn.BatchNorm2d)]
        assert norms and all(m.momentum == 0.01 and m.eps == 1e-3 for m in norms)
        assert {group["eps"] for group in session.optimizer.param_groups} == {1e-7}


def test_grad_clip_bounds_each_update(digits, spec_for, session_for):
    spec = spec_for({"name": "mlp"}, optimizer={"name": "sgd", "lr": 1.0}, training={"grad_clip": 1e-3})
    with session_for(spec, digits) as session:
        session.begin_phase(
            TrainableSet(("hidden1", "hidden2", "head")), dict.fromkeys(("hidden1", "hidden2", "head"), 1.0)
        )
        before = torch.cat([p.detach().flatten().clone() for p in session.built.module.parameters()])
        images, labels = batch(digits, 8)
        session.train_step(images * 100, labels)
        after = torch.cat([p.detach().flatten() for p in session.built.module.parameters()])
    assert 0 < float((after - before).norm()) <= 1e-3 + 1e-9


def test_snapshot_restore_and_checkpoint_reload(digits, spec_for, session_for, tmp_path):
    with session_for(spec_for({"name": "mlp"}), digits) as session:
        session.begin_phase(
            TrainableSet(("hidden1", "hidden2", "head")), dict.fromkeys(("hidden1", "hidden2", "head"), 1e-2)
        )
        images, labels = batch(digits)
        start, logits = session.snapshot(), session.predict(images)
        path = session.save_checkpoint(tmp_path / "checkpoints", "best")
        session.train_step(images, labels)
        assert not np.array_equal(session.predict(images), logits)
        session.restore(start)
        np.testing.assert_array_equal(session.predict(images), logits)
    assert path == tmp_path / "checkpoints" / "best.pt"
    again = build_model(ModelSpec(name="mlp", weights=str(path)), digits.input_shape, 10)
    for key, value in start.items():
        assert torch.equal(again.module.state_dict()[key], value), key


def test_deterministic_runs_repeat_exactly(digits, spec_for, run, tmp_path):
    spec = spec_for({"name": "simple_cnn"}, seed=3, training={"epochs": 1, "deterministic": True})
    first, second = run(spec, digits, tmp_path / "a"), run(spec, digits, tmp_path / "b")
    assert without_seconds(first.history) == without_seconds(second.history)
    np.testing.assert_array_equal(first.test_scores, second.test_scores)
    assert not torch.are_deterministic_algorithms_enabled()  # global flag restored when the session closed
    other = run(spec.model_copy(update={"seed": 4}), digits, tmp_path / "c")
    assert without_seconds(other.history) != without_seconds(first.history)


def test_early_stopping_restores_best_weights_and_checkpoints(digits, spec_for, run, tmp_path):
    stopping = {"monitor": "val_loss", "patience": 2, "min_delta": 10.0, "restore_best": True}
    out = run(spec_for({"name": "mlp"}, training={"epochs": 10, "early_stopping": stopping, "checkpoint": True}),
              digits, tmp_path / "stopped")  # fmt: skip
    assert len(out.history) == 3 and out.best_epoch == 0  # epochs 1 and 2 cannot beat epoch 0 by 10
    one_epoch = run(spec_for({"name": "mlp"}, training={"epochs": 1}), digits, tmp_path / "one")
    np.testing.assert_allclose(out.test_scores, one_epoch.test_scores, atol=1e-6)  # epoch-0 weights tested
    checkpoints = tmp_path / "stopped" / "checkpoints"
    best = torch.load(checkpoints / "best.pt", weights_only=True)["state_dict"]
    last = torch.load(checkpoints / "last.pt", weights_only=True)["state_dict"]
    assert not torch.equal(best["head.weight"], last["head.weight"])


def test_channels_last_off_for_mlp_and_settable(digits, spec_for, session_for):
    with session_for(spec_for({"name": "mlp"}), digits) as session:
        assert session.details()["channels_last"] is False
    with session_for(spec_for({"name": "simple_cnn"}, training={"channels_last": False}), digits) as session:
        assert session.details()["channels_last"] is False
        assert session.environment()["frameworks"]["torch"] == torch.__version__


@pytest.mark.skipif(not cpu_supports_bf16(), reason="CPU without native bf16")
def test_bf16_autocast_on_cpu_learns(digits, spec_for, run, tmp_path):
    out = run(spec_for({"name": "simple_cnn"}, training={"epochs": 3, "precision": "auto"}), digits, tmp_path)
    assert out.extra["precision"] == "bf16" and out.extra["channels_last"] is True
    assert out.test_scores.dtype == np.float32
    assert float((out.test_scores.argmax(1) == out.test_labels).mean()) > 0.8


@pytest.mark.slow
def test_compiled_run_matches_eager(digits, spec_for, run, tmp_path):
    model = {"name": "mlp", "dropout": 0.0}  # compiled dropout draws its masks from a different RNG stream
    eager = run(spec_for(model, training={"epochs": 1}), digits, tmp_path / "eager")
    compiled = run(spec_for(model, training={"epochs": 1, "compile": True}), digits, tmp_path / "c")
    assert compiled.extra["compile"] is True
    np.testing.assert_allclose(compiled.test_scores, eager.test_scores, atol=1e-4)


def test_soft_labels_give_the_same_step_as_one_hot_indices(digits, spec_for, session_for):
    images, labels = batch(digits)
    results = []
    for targets in (labels, np.eye(10, dtype=np.float32)[labels]):
        with session_for(spec_for({"name": "mlp", "dropout": 0.0}), digits) as session:
            assert TorchRunner.capabilities.soft_labels
            session.begin_phase(
                TrainableSet(("hidden1", "hidden2", "head")), dict.fromkeys(("hidden1", "hidden2", "head"), 1e-2)
            )
            results.append((session.train_step(images, targets), session.predict(images)))
    (indexed, logits), (soft, soft_logits) = results
    assert soft[0] == pytest.approx(indexed[0], rel=1e-6) and soft[1] == indexed[1]
    np.testing.assert_allclose(soft_logits, logits, rtol=1e-5, atol=1e-6)


def test_mixup_run_learns(digits, spec_for, run, tmp_path):
    spec = spec_for({"name": "mlp"}, dataset={"augment": {"mixup": 0.2, "flip": "horizontal"}}, training={"epochs": 4})
    out = run(spec, digits, tmp_path)
    assert out.history[-1]["train_loss"] < out.history[0]["train_loss"]
    assert float((out.test_scores.argmax(1) == out.test_labels).mean()) > 0.7


def test_fp64_trains_in_float64_and_still_returns_float32_logits(digits, spec_for, session_for):
    with session_for(spec_for({"name": "mlp"}, training={"epochs": 1, "precision": "fp64"}), digits) as session:
        assert {p.dtype for p in session.built.module.parameters()} == {torch.float64}
        session.begin_phase(
            TrainableSet(("hidden1", "hidden2", "head")), dict.fromkeys(("hidden1", "hidden2", "head"), 1e-2)
        )
        loss, _ = session.train_step(*batch(digits))
        logits = session.predict(batch(digits)[0])
    assert np.isfinite(loss) and logits.dtype == np.float32

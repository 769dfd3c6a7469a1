import numpy as np
import pytest
import torch

from suite.environment import cpu_supports_bf16
from suite.spec.models import ModelSpec
from torch_impl.feature_cache import plan_cache
from torch_impl.models import build_model
from torch_impl.runner import TorchRunner

ROW_KEYS = ("train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr")


def without_seconds(history):
    return [{key: row[key] for key in ROW_KEYS} for row in history]


def test_deterministic_runs_repeat_exactly(digits, spec_for, tmp_path):
    runner = TorchRunner()
    spec = spec_for({"name": "simple_cnn"}, seed=3, training={"epochs": 1, "deterministic": True})
    first, second = runner.run(spec, digits, tmp_path / "a"), runner.run(spec, digits, tmp_path / "b")
    assert without_seconds(first.history) == without_seconds(second.history)
    np.testing.assert_array_equal(first.test_scores, second.test_scores)
    assert not torch.are_deterministic_algorithms_enabled()  # global flag restored after the run
    other = runner.run(spec.model_copy(update={"seed": 4}), digits, tmp_path / "c")
    assert without_seconds(other.history) != without_seconds(first.history)


@pytest.mark.skipif(not cpu_supports_bf16(), reason="CPU without native bf16")
def test_bf16_autocast_on_cpu_learns(digits, spec_for, tmp_path):
    spec = spec_for({"name": "simple_cnn"}, training={"epochs": 3, "precision": "auto"})
    out = TorchRunner().run(spec, digits, tmp_path)
    assert out.extra["precision"] == "bf16" and out.extra["channels_last"] is True
    assert out.test_scores.dtype == np.float32
    assert float((out.test_scores.argmax(1) == out.test_labels).mean()) > 0.8


def test_channels_last_off_for_mlp_and_settable(digits, spec_for, tmp_path):
    runner = TorchRunner()
    assert (
        runner.run(spec_for({"name": "mlp"}, training={"epochs": 1}), digits, tmp_path).extra["channels_last"] is False
    )
    cnn = spec_for({"name": "simple_cnn"}, training={"epochs": 1, "channels_last": False})
    assert runner.run(cnn, digits, tmp_path).extra["channels_last"] is False


def test_streaming_with_worker_processes(digits, spec_for, tmp_path, monkeypatch):
    import torch_impl.execution as execution
    from torch_impl import data as data_module

    original = data_module.make_split
    monkeypatch.setattr(execution, "make_split", lambda *args: original(*args, preload_limit=0))
    spec = spec_for({"name": "mlp"}, training={"epochs": 1, "num_workers": 1})
    out = TorchRunner().run(spec, digits, tmp_path)
    assert out.extra["data_loading"]["train"] == "streamed" and len(out.test_labels) == len(digits.test)


def test_tensorboard_event_files(digits, spec_for, tmp_path):
    spec = spec_for({"name": "mlp"}, training={"epochs": 2, "tensorboard": True, "log_every_n_steps": 10})
    TorchRunner().run(spec, digits, tmp_path)
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = list((tmp_path / "tensorboard").glob("events.out.tfevents.*"))
    assert len(events) == 1
    accumulator = EventAccumulator(str(tmp_path / "tensorboard"))
    accumulator.Reload()
    tags = set(accumulator.Tags()["scalars"])
    assert {"train/loss", "train/accuracy", "val/loss", "val/accuracy", "lr", "train/loss_step"} <= tags
    assert [event.step for event in accumulator.Scalars("val/loss")] == [0, 1]
    steps_per_epoch = -(-len(digits.train) // 32)
    assert [event.step for event in accumulator.Scalars("train/loss_step")] == list(
        range(10, 2 * steps_per_epoch + 1, 10)
    )


def test_cache_plan_follows_freezing():
    built = build_model(ModelSpec(name="resnet18"), (32, 32, 3), 3)
    assert plan_cache(built, {"stem", "layer1", "layer2"}, "frozen").prefix_groups == ["stem", "layer1", "layer2"]
    assert plan_cache(built, {"stem", "layer2"}, "frozen").prefix_groups == ["stem"]
    assert not plan_cache(built, {"stem"}, "train").active
    assert not plan_cache(build_model(ModelSpec(name="shufflenet_v2_x0_5"), (32, 32, 3), 3), {"conv1"}, "frozen").active
    mlp = build_model(ModelSpec(name="mlp"), (8, 8, 1), 3)
    assert not plan_cache(mlp, {"hidden1"}, "frozen").active  # dropout in hidden1 changes every step


def test_feature_cache_matches_uncached_run(tiny_rgb, spec_for, tmp_path):
    runner = TorchRunner()

    def run(cache):
        spec = spec_for({"name": "resnet18"}, strategy={"freeze_blocks": 3},
                        training={"epochs": 2, "batch_size": 32, "feature_cache": cache})  # fmt: skip
        return runner.run(spec, tiny_rgb, tmp_path / str(cache))

    cached, plain = run(True), run(False)
    assert cached.extra["feature_cache"]["groups"] == ["stem", "layer1", "layer2"]
    assert plain.extra["feature_cache"]["active"] is False
    for a, b in zip(cached.history, plain.history, strict=True):
        for key in ("train_loss", "val_loss"):
            assert a[key] == pytest.approx(b[key], abs=1e-4)
        assert a["train_accuracy"] == b["train_accuracy"] and a["val_accuracy"] == b["val_accuracy"]
    np.testing.assert_array_equal(cached.test_scores.argmax(1), plain.test_scores.argmax(1))
    np.testing.assert_allclose(cached.test_scores, plain.test_scores, atol=1e-4)


def test_feature_cache_true_without_cacheable_prefix_is_a_check_error(spec_for):
    problems = TorchRunner().check(spec_for({"name": "resnet18"}, training={"feature_cache": True}))
    assert problems and "nothing can be cached" in problems[0]
    for unfrozen_later, ok in ((["stem"], False), (["layer4"], True)):
        strategy = {"freeze": "all_but_head", "unfreeze_schedule": {1: unfrozen_later}}
        spec = spec_for({"name": "resnet18"}, strategy=strategy, training={"feature_cache": True})
        assert (TorchRunner().check(spec) == []) is ok


@pytest.mark.slow
def test_compiled_run_matches_eager(digits, spec_for, tmp_path):
    runner = TorchRunner()
    model = {"name": "mlp", "dropout": 0.0}  # compiled dropout draws its masks from a different RNG stream
    eager = runner.run(spec_for(model, training={"epochs": 1}), digits, tmp_path / "eager")
    compiled = runner.run(spec_for(model, training={"epochs": 1, "compile": True}), digits, tmp_path / "c")
    np.testing.assert_allclose(compiled.test_scores, eager.test_scores, atol=1e-4)


def test_trainable_count_is_what_was_unfrozen_by_the_end(tiny_rgb, spec_for, tmp_path):
    """Same meaning as the Keras runner: gradual unfreezing reports the parameters it ended up training."""
    strategy = {"freeze": "all_but_head", "unfreeze_schedule": {1: ["layer4"]}}
    spec = spec_for({"name": "resnet18"}, strategy=strategy, training={"epochs": 2, "batch_size": 32})
    output = TorchRunner().run(spec, tiny_rgb, tmp_path)
    assert output.extra["trainable_params_initial"] == 5_130
    assert output.params.trainable == 5_130 + 8_393_728
    assert output.params.frozen == output.params.total - output.params.trainable
    assert output.params.groups["layer4"]["trainable"] == 8_393_728

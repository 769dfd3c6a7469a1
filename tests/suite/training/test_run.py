"""The shared run and epoch loop, driven through the plain-numpy backend (no framework involved)."""

import json
from pathlib import Path

import numpy as np
import pytest
from builders import digits_bundle, numpy_spec
from numpy_backend import NumpyRunner

from suite.plan import EpochSchedule
from suite.runners import registry
from suite.runners.progress import NullProgress
from suite.spec.models import ExperimentSpec
from suite.training.run import execute


@pytest.fixture(autouse=True)
def numpy_backend_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    """The numpy backend is registered for these tests only (other tests list the real backends)."""
    registry.discover()
    monkeypatch.setitem(
        registry._RUNNERS,
        "numpy",
        registry.RunnerEntry("numpy", NumpyRunner, (), "plain numpy", NumpyRunner.capabilities),
    )


_spec = numpy_spec


def _run(spec: ExperimentSpec, tmp_path: Path) -> tuple:
    runner = NumpyRunner()
    output = execute(spec, runner, digits_bundle(), tmp_path, NullProgress())
    return output, runner.session


def test_plan_is_executed_epoch_by_epoch(tmp_path: Path) -> None:
    spec = _spec(
        strategy={
            "freeze": "all_but_head",
            "unfreeze_schedule": {2: ["last:1"]},
            "discriminative_lr": {"lr_mult": 0.1},
        },
        training={"scheduler": {"name": "cosine", "warmup_epochs": 1}},
    )
    output, session = _run(spec, tmp_path)
    plan = json.loads((tmp_path / "plan.json").read_text())
    kinds = [call[0] for call in session.calls]
    assert kinds[:2] == ["begin_phase", "set_learning_rates"] and kinds.count("begin_phase") == 1
    assert ("set_trainable", ("hidden", "head")) in session.calls
    epochs = EpochSchedule.from_stored(plan["epochs"])
    for row, epoch in zip(output.history, epochs, strict=True):
        assert {k[3:]: v for k, v in row.items() if k.startswith("lr_")} == pytest.approx(epoch.rates)
        assert row["trainable_params"] == epoch.trainable_params
    assert output.extra["trainable_params_initial"] == epochs[0].trainable_params
    assert output.timing.warmup_batches_excluded == 4  # 2 at the phase start, 2 after the unfreeze
    assert output.test_scores.shape[1] == 10 and output.extra["order_fingerprint"]


def test_feature_cache_equals_the_uncached_run(tmp_path: Path) -> None:
    strategy = {"freeze": ["hidden"]}
    cached, session = _run(_spec(strategy=strategy, training={"feature_cache": True}), tmp_path / "a")
    plain, _ = _run(_spec(strategy=strategy, training={"feature_cache": False}), tmp_path / "b")
    assert cached.extra["feature_cache"]["active"] and cached.extra["feature_cache"]["groups"] == ["hidden"]
    assert ("use_prefix_cache", ["hidden"]) in session.calls and session.calls[-2] == ("use_prefix_cache", None)
    for a, b in zip(cached.history, plain.history, strict=True):
        assert a["val_loss"] == pytest.approx(b["val_loss"], abs=1e-9)
    np.testing.assert_allclose(cached.test_scores, plain.test_scores, atol=1e-6)


def test_early_stopping_restores_the_best_weights(tmp_path: Path) -> None:
    spec = _spec(
        optimizer={"lr": 40.0},  # far too high: val loss jumps around
        training={"epochs": 6, "early_stopping": {"monitor": "val_loss", "patience": 2}},
    )
    output, _ = _run(spec, tmp_path)
    losses = [row["val_loss"] for row in output.history]
    assert output.best_epoch == int(np.argmin(losses))
    assert len(output.history) < 6 or output.best_epoch == 5


def test_plateau_lowers_every_group_rate(tmp_path: Path) -> None:
    spec = _spec(optimizer={"lr": 40.0}, training={"epochs": 6, "scheduler": {"name": "plateau", "patience": 0}})
    output, _ = _run(spec, tmp_path)
    rates = [row["lr"] for row in output.history]
    assert rates[0] == 40.0 and rates[-1] < 40.0 and output.extra["plateau_reductions"]


def test_same_order_and_shared_init_across_runs(tmp_path: Path) -> None:
    first, _ = _run(_spec(model={"name": "mlp", "init": "shared", "dropout": 0.0}), tmp_path / "a")
    second, _ = _run(_spec(model={"name": "mlp", "init": "shared"}, training={"batch_size": 32}), tmp_path / "b")
    assert first.extra["order_fingerprint"] == second.extra["order_fingerprint"]  # independent of batch size
    assert first.extra["init"] == "shared"
    assert first.extra["parity_probe"]["logits"] == second.extra["parity_probe"]["logits"]


def test_tensorboard_written_by_the_core(tmp_path: Path) -> None:
    _run(_spec(training={"tensorboard": True, "log_every_n_steps": 5}), tmp_path)
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(tmp_path / "tensorboard"))
    events.Reload()
    tags = set(events.Tags()["scalars"])
    assert {"train_loss", "val_accuracy", "lr", "train_loss_step"} <= tags
    assert [event.step for event in events.Scalars("val_loss")] == [1, 2, 3]  # epochs count from 1

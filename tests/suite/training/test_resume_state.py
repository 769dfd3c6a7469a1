"""Resume state written by the core's loop: an interrupted attempt continues to the uninterrupted result; torn,
foreign or half-written states are ignored safely (plain-numpy backend, in-process)."""

from __future__ import annotations

import json
import math
import pickle
import time
from pathlib import Path

import numpy as np
import pytest
from numpy_backend import STATE_FILE
from resumable_backend import (  # noqa: F401 - numpy_backend_registered is an autouse fixture
    Interrupted,
    Messages,
    ResumableRunner,
    comparable,
    numpy_backend_registered,
    prepared,
    run_in,
)

from suite import store
from suite.execution import worker
from suite.plan import EarlyStopper, PlateauController
from suite.runners.progress import NullProgress
from suite.runners.protocol import epoch_number
from suite.spec.models import EarlyStoppingSpec, ExperimentSpec, SchedulerSpec
from suite.timing import ThroughputMeter
from suite.training.resume import POINTER_FILE, RESUME_DIR, SESSION_DIR, ResumeStateDamaged, ResumeStore
from suite.training.stops import Deadline

STEPS_PER_EPOCH = 17  # 1078 digits training samples in batches of 64


def _spec(**training) -> ExperimentSpec:
    """Two phases (a head-only phase, then fine-tuning), plateau reductions and early stopping with restore."""
    return ExperimentSpec.model_validate(
        {
            "name": "t",
            "backend": "numpy",
            "dataset": {"source": "digits"},
            "model": {"name": "mlp2"},
            "optimizer": {"name": "sgd", "lr": 3.0},
            "strategy": {
                "freeze": "all_but_head",
                "unfreeze_schedule": {3: ["last:1"]},
                "finetune": {"epochs": 3, "lr": 1.0, "unfreeze": "all"},
            },
            "training": {
                "epochs": 4,
                "batch_size": 64,
                "scheduler": {"name": "plateau", "patience": 0},
                "early_stopping": {"monitor": "val_loss", "patience": 3},
                **training,
            },
        }
    )


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory):
    directory = prepared(tmp_path_factory.mktemp("plain"), _spec())
    return run_in(directory, _spec())


def _interrupted(directory: Path, epoch: int) -> Path:
    """An attempt that dies during ``epoch`` (after the resume state of ``epoch - 1`` was written)."""
    with pytest.raises(Interrupted):
        run_in(prepared(directory, _spec()), _spec(), ResumableRunner(die_at_step=epoch * STEPS_PER_EPOCH + 3))
    return directory


def _pointer(directory: Path) -> dict:
    return json.loads((directory / RESUME_DIR / POINTER_FILE).read_text())


@pytest.mark.parametrize("epoch", [1, 3, 4, 6])  # phase 1 before and after an unfreeze, phase 2, the last epoch
def test_an_interrupted_run_resumes_to_the_uninterrupted_result(uninterrupted, tmp_path: Path, epoch: int) -> None:
    directory = _interrupted(tmp_path, epoch)
    assert _pointer(directory)["epoch"] == epoch - 1
    runner = ResumableRunner()
    resumed = run_in(directory, _spec(), runner)
    assert comparable(resumed) == comparable(uninterrupted)
    np.testing.assert_array_equal(resumed.test_scores, uninterrupted.test_scores)
    assert resumed.best_epoch == uninterrupted.best_epoch
    assert resumed.extra["plateau_reductions"] == uninterrupted.extra["plateau_reductions"]
    assert resumed.extra["order_fingerprint"] == uninterrupted.extra["order_fingerprint"]
    assert (resumed.resumed_from_epoch, resumed.resumes) == (epoch, 1)
    assert (uninterrupted.resumed_from_epoch, uninterrupted.resumes) == (None, 0)
    kinds = [call[0] for call in runner.session.calls]
    assert kinds.index("begin_phase") < kinds.index("load_state")  # the plan's path first, then the state


def test_a_second_resume_counts_and_timing_covers_every_attempt(uninterrupted, tmp_path: Path) -> None:
    directory = _interrupted(tmp_path, 2)
    with pytest.raises(Interrupted):
        run_in(directory, _spec(), ResumableRunner(die_at_step=STEPS_PER_EPOCH + 5))  # dies in epoch 3
    resumed = run_in(directory, _spec())
    assert (resumed.resumed_from_epoch, resumed.resumes) == (3, 2)
    assert comparable(resumed) == comparable(uninterrupted)
    assert resumed.timing.train_seconds == pytest.approx(sum(row["seconds"] for row in resumed.history))


def test_a_run_killed_after_early_stopping_ended_it_only_restores_and_tests(tmp_path: Path) -> None:
    spec = _spec(early_stopping={"monitor": "val_loss", "patience": 2})
    plain = run_in(prepared(tmp_path / "plain", spec), spec)
    assert plain.extra["stopped_early"] and len(plain.history) == 4 and plain.best_epoch == 1
    directory = prepared(tmp_path / "killed", spec)
    with pytest.raises(Interrupted):
        run_in(directory, spec, ResumableRunner(die_on_restore=True))
    runner = ResumableRunner()
    resumed = run_in(directory, spec, runner)
    assert comparable(resumed) == comparable(plain) and resumed.best_epoch == 1 and resumed.extra["stopped_early"]
    np.testing.assert_array_equal(resumed.test_scores, plain.test_scores)
    assert resumed.resumed_from_epoch == 4 and not any(call[0] == "set_learning_rates" for call in runner.session.calls)


def test_the_feature_cache_is_recomputed_on_resume_and_its_passes_count(tmp_path: Path) -> None:
    spec = ExperimentSpec.model_validate(
        {
            **_spec().model_dump(exclude={"strategy", "training"}),
            "strategy": {"freeze": ["hidden"]},
            "training": {"epochs": 4, "batch_size": 64, "feature_cache": True},
        }
    )
    plain = run_in(prepared(tmp_path / "plain", spec), spec)
    directory = prepared(tmp_path / "killed", spec)
    with pytest.raises(Interrupted):
        run_in(directory, spec, ResumableRunner(die_at_step=2 * STEPS_PER_EPOCH + 1))
    runner = ResumableRunner()
    resumed = run_in(directory, spec, runner)
    assert resumed.extra["feature_cache"]["active"] and ("use_prefix_cache", ["hidden"]) in runner.session.calls
    assert comparable(resumed) == comparable(plain) and resumed.resumed_from_epoch == 2
    np.testing.assert_array_equal(resumed.test_scores, plain.test_scores)
    epochs = sum(row["seconds"] for row in resumed.history)
    assert resumed.timing.train_seconds > epochs + resumed.extra["feature_cache"]["seconds"]  # both attempts' passes


def test_a_torn_state_is_ignored_and_the_run_starts_afresh(uninterrupted, tmp_path: Path) -> None:
    directory = _interrupted(tmp_path, 2)
    state_dir = directory / RESUME_DIR / _pointer(directory)["directory"]
    for item in sorted(state_dir.rglob("*"), reverse=True):
        item.rmdir() if item.is_dir() else item.unlink()
    state_dir.rmdir()
    progress = Messages()
    output = run_in(directory, _spec(), progress=progress)
    assert any(line.startswith("resume state ignored:") and "incomplete" in line for line in progress.lines)
    assert (output.resumed_from_epoch, output.resumes) == (None, 0)
    assert comparable(output) == comparable(uninterrupted)
    assert (directory / RESUME_DIR / _pointer(directory)["directory"]).is_dir()  # a new, complete state


def test_a_state_of_another_spec_is_ignored_and_overwritten(tmp_path: Path) -> None:
    directory = _interrupted(tmp_path, 2)
    old = _pointer(directory)["directory"]
    other = _spec(epochs=5)
    prepared(directory, other)
    progress = Messages()
    output = run_in(directory, other, progress=progress)
    assert "resume state ignored: it belongs to another spec (it will be overwritten)" in progress.lines
    assert (output.resumed_from_epoch, output.resumes, output.history[0]["epoch"]) == (None, 0, 0)
    assert not (directory / RESUME_DIR / old).exists()
    assert _pointer(directory)["spec_hash"] == ResumeStore.for_run(directory).digest


def test_a_longer_time_limit_still_continues_the_state(uninterrupted, tmp_path: Path) -> None:
    directory = _interrupted(tmp_path, 2)
    longer = _spec(time_limit=3600.0)
    resumed = run_in(prepared(directory, longer), longer)
    assert resumed.resumed_from_epoch == 2 and comparable(resumed) == comparable(uninterrupted)


def test_a_save_cut_short_leaves_the_previous_state_usable(tmp_path: Path) -> None:
    directory = prepared(tmp_path, _spec())
    states = ResumeStore.for_run(directory)
    core = {"epoch": 0, "note": "first"}
    states.save(core, {"order_0": np.arange(3)}, lambda path: (path / "weights").write_text("0"))

    def die(path: Path) -> None:
        (path / "weights").write_text("half")
        raise Interrupted

    with pytest.raises(Interrupted):
        states.save({"epoch": 1}, {}, die)
    point = states.load(pytest.fail)
    assert point.epoch == 0 and point.core["note"] == "first" and (point.session_dir / "weights").read_text() == "0"
    states.save({"epoch": 1}, {}, lambda path: None)
    assert [entry.name for entry in sorted((directory / RESUME_DIR).iterdir())] == [
        _pointer(directory)["directory"],
        POINTER_FILE,
    ]


def test_not_resumable_writes_no_state(tmp_path: Path) -> None:
    directory = prepared(tmp_path, _spec(resumable=False))
    run_in(directory, _spec(resumable=False))
    assert not (directory / RESUME_DIR).exists()


def test_controllers_and_meter_continue_from_their_state() -> None:
    stopper = EarlyStopper(EarlyStoppingSpec(monitor="val_loss", patience=2))
    fresh = EarlyStopper(EarlyStoppingSpec(monitor="val_loss", patience=2))
    fresh.from_state(json.loads(json.dumps(stopper.to_state())))  # nothing seen yet: -inf survives JSON
    assert fresh.best_value == -math.inf
    for epoch, loss in enumerate([1.0, 0.5, 0.7]):
        stopper.update(epoch, {"val_loss": loss})
    fresh.from_state(json.loads(json.dumps(stopper.to_state())))
    assert (fresh.best_epoch, fresh.best_value, fresh.should_stop) == (1, -0.5, False)
    assert fresh.update(3, {"val_loss": 0.9}) is False and fresh.should_stop

    plateau = PlateauController(SchedulerSpec(name="plateau", patience=0, factor=0.5))
    for epoch, loss in enumerate([1.0, 1.0, 1.0]):
        plateau.update(epoch, {"val_loss": loss})
    other = PlateauController(SchedulerSpec(name="plateau", patience=0, factor=0.5))
    other.from_state(json.loads(json.dumps(plateau.to_state())))
    assert (other.scale, other.reductions) == (0.25, [1, 2])

    meter = ThroughputMeter(1)
    for _ in range(3):
        meter.start_batch()
        meter.end_batch(10)
    again = ThroughputMeter(1)
    again.from_state(json.loads(json.dumps(meter.to_state())))
    assert again.to_state() == meter.to_state() and again.excluded_batches == 1


@pytest.mark.parametrize("damage", [b"\x80\x04\x95garbage", b"", pickle.dumps({"weights": [1, 2, 3]})])
def test_a_damaged_state_is_discarded_and_the_run_trains_from_scratch(
    uninterrupted, tmp_path: Path, damage: bytes
) -> None:
    directory = _interrupted(tmp_path, 2)
    session_file = directory / RESUME_DIR / _pointer(directory)["directory"] / SESSION_DIR / STATE_FILE
    session_file.write_bytes(damage)
    with pytest.raises(ResumeStateDamaged, match=r"epoch-0001-\w+: "):
        run_in(directory, _spec())
    result = worker._train_from_state_or_scratch(_spec(), directory, Deadline(None, time.monotonic()), NullProgress())
    assert (result["status"], result["resumed_from_epoch"], result["resumes"]) == ("completed", None, 0)
    epochs = [int(row["epoch"]) for row in store.load_history(directory)]
    assert epochs == [epoch_number(row["epoch"]) for row in uninterrupted.history]  # every epoch again, from 1

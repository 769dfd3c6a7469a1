"""A stored run read back as tracking data, and the figures attached to it (no MLflow needed)."""

import csv
import json
import re
from pathlib import Path

import pytest

from suite import store
from suite.tracking.figures import CONFUSION_CSV, CONFUSION_PNG, CURVES_PNG, GROUP_RATES_PNG, write_figures
from suite.tracking.stored import epoch_series, final_metrics, flatten, read_stored_run, run_tags

HISTORY = (
    "epoch,train_loss,train_accuracy,val_loss,val_accuracy,lr,seconds,lr_head,lr_hidden,phase\n"
    "0,2.0,0.3,1.5,0.5,0.1,1.25,0.1,0.01,head\n"
    "1,1.0,0.6,0.9,0.7,0.05,1.5,0.05,0.005,all\n"
)
SPEC = {"backend": "centroid", "optimizer": {"name": "sgd", "lr": 0.1}, "model": {"head_hidden": []}, "seed": 0}
HEADER = {"run_id": "abc123", "name": "mlp[seed=0]", "study": "s", "backend": "centroid", "spec": SPEC}
COMPLETED = {
    **HEADER,
    "status": "completed",
    "error": None,
    "metrics": {"test_accuracy": 0.75, "overfit_gap": None, "confusion_matrix": [[2, 1], [0, 1]], "per_class": {}},
    "timing": {"train_seconds": 2.75},
    "params": {"total": 10, "trainable": 4, "groups": {"head": {"total": 4}}},
    "environment": {"frameworks": {"numpy": "2.0"}, "device": "cpu"},
    "extra": {"data_fingerprint": "f00d"},
    "class_names": ["cat", "dog"],
    "started_at": "2026-01-01T00:00:00+00:00",
    "finished_at": "2026-01-01T00:00:10+00:00",
}


def _run_dir(tmp_path: Path, result: dict, history: str | None = None) -> Path:
    directory = tmp_path / "runs" / result["run_id"]
    directory.mkdir(parents=True)
    store.write_json(directory / store.RESULT_FILE, result)
    (directory / store.SPEC_FILE).write_text('backend = "centroid"\n')
    (directory / "worker.log").write_text("log\n")
    if history is not None:
        (directory / store.HISTORY_FILE).write_text(history)
    return directory


def test_flatten_spec_into_dotted_params() -> None:
    assert flatten(SPEC) == {
        "backend": "centroid",
        "optimizer.name": "sgd",
        "optimizer.lr": "0.1",
        "model.head_hidden": "[]",
        "seed": "0",
    }


def test_epoch_series_every_numeric_column_including_group_lrs() -> None:
    series = epoch_series(list(csv.DictReader(HISTORY.splitlines())))
    assert series["val_loss"] == [(0, 1.5), (1, 0.9)]
    assert series["lr_hidden"] == [(0, 0.01), (1, 0.005)] and series["lr_head"] == [(0, 0.1), (1, 0.05)]
    assert series["epoch_seconds"] == [(0, 1.25), (1, 1.5)]
    assert "phase" not in series and "epoch" not in series and "seconds" not in series


def test_final_metrics_are_the_scalar_results() -> None:
    assert final_metrics(COMPLETED) == {
        "test_accuracy": 0.75,
        "timing.train_seconds": 2.75,
        "params.total": 10.0,
        "params.trainable": 4.0,
    }


def test_tags_identify_the_run() -> None:
    tags = run_tags(COMPLETED)
    assert tags["tlbench.run_id"] == "abc123" and tags["tlbench.backend"] == "centroid"
    assert tags["tlbench.data_fingerprint"] == "f00d" and tags["tlbench.framework.numpy"] == "2.0"
    assert "tlbench.error" not in tags and "tlbench.engine" not in tags


def test_completed_run(tmp_path: Path) -> None:
    run = read_stored_run(_run_dir(tmp_path, COMPLETED, HISTORY))
    assert (run.run_id, run.name, run.status, run.error) == ("abc123", "mlp[seed=0]", "completed", None)
    assert run.params["optimizer.lr"] == "0.1"
    assert [path.name for path in run.artifacts] == ["spec.toml", "history.csv"]
    assert run.finished_ms - run.started_ms == 10_000


def test_crashed_run_has_its_error_and_log(tmp_path: Path) -> None:
    crashed = {**HEADER, "status": "failed", "error": "worker exited with status 3"}
    run = read_stored_run(_run_dir(tmp_path, crashed))
    assert run.status == "failed" and run.tags["tlbench.error"] == "worker exited with status 3"
    assert run.params == flatten(SPEC) and run.epoch_metrics == {} and run.final_metrics == {}
    assert "worker.log" in [path.name for path in run.artifacts]
    assert run.started_ms is None


def test_fingerprint_changes_with_the_stored_result(tmp_path: Path) -> None:
    directory = _run_dir(tmp_path, {**HEADER, "status": "failed", "error": "boom"})
    before = read_stored_run(directory).fingerprint
    store.write_json(directory / store.RESULT_FILE, COMPLETED)
    assert read_stored_run(directory).fingerprint != before
    assert read_stored_run(tmp_path / "nothing") is None


def test_figures(tmp_path: Path) -> None:
    run = read_stored_run(_run_dir(tmp_path, COMPLETED, HISTORY))
    out = tmp_path / "figures"
    out.mkdir()
    paths = write_figures(run, out)
    assert [path.name for path in paths] == [CONFUSION_CSV, CONFUSION_PNG, CURVES_PNG, GROUP_RATES_PNG]
    assert (out / CONFUSION_CSV).read_text().splitlines() == ["true \\ predicted,cat,dog", "cat,2,1", "dog,0,1"]
    for name in (CONFUSION_PNG, CURVES_PNG, GROUP_RATES_PNG):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("status", ["failed", "unavailable"])
def test_no_figures_without_results(tmp_path: Path, status: str) -> None:
    run = read_stored_run(_run_dir(tmp_path, {**HEADER, "status": status, "error": "x"}))
    assert write_figures(run, tmp_path) == []
    assert json.loads((run.directory / store.RESULT_FILE).read_text())["status"] == status


@pytest.mark.parametrize(
    ("file", "content", "problem"),
    [
        (store.RESULT_FILE, b'{"status": "completed",', "not valid JSON (line 1 column 24: Expecting property name"),
        (store.RESULT_FILE, b"[1, 2, 3]", "expected a JSON object, found a list"),
        (store.RESULT_FILE, b"\xff\xfe\x00", "not UTF-8 text (byte 0xff at offset 0)"),
        (store.HISTORY_FILE, b"epoch,train_loss\n0,1.0,2.0\n", "line 2 has 3 fields, the header 2"),
    ],
)
def test_a_damaged_run_is_skipped_with_one_line(tmp_path: Path, file: str, content: bytes, problem: str) -> None:
    from suite.tracking.study import StudyTracker

    directory = _run_dir(tmp_path, COMPLETED, HISTORY)
    (directory / file).write_bytes(content)
    with pytest.raises(store.StoreError, match=re.escape(problem)):
        read_stored_run(directory)
    tracker = StudyTracker(tmp_path, "s")
    note = tracker.track(directory)
    assert note is not None and note.startswith(f"skipped {directory / file}: {problem}")
    assert tracker.problems == [note]


def test_a_stale_running_run_is_tracked_as_interrupted(tmp_path: Path) -> None:
    from suite.execution.run_lock import RunLock

    directory = _run_dir(tmp_path, {**HEADER, "status": "running"})
    assert read_stored_run(directory).status == "interrupted"
    claim = RunLock(directory)
    assert claim.acquire()
    try:
        assert read_stored_run(directory).status == "running"
    finally:
        claim.release()


def test_a_tuning_trial_is_tracked_with_its_number_and_objective() -> None:
    trial = {"run_id": "t", "status": "completed", "trial": {"number": 3}, "objective": {"value": 0.91}}
    assert run_tags(trial)["tlbench.trial"] == "3" and final_metrics(trial)["objective"] == 0.91
    final = {"run_id": "f", "status": "completed", "tuned": {"trial": 2}, "metrics": {"test_accuracy": 0.9}}
    assert run_tags(final)["tlbench.tuned_from_trial"] == "2" and "objective" not in final_metrics(final)

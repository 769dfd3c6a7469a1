"""Honest statuses: a stale ``running`` reads as interrupted, and each status says why in one line."""

from pathlib import Path

import pytest

from suite import statuses, store
from suite.run_lock import RunLock
from suite.run_status import observed_status, status_reason


def test_running_without_a_live_lock_is_interrupted(tmp_path: Path) -> None:
    store.write_json(tmp_path / store.RESULT_FILE, {"status": "running"})
    (tmp_path / ".lock").touch()  # left behind by a dead executor: nobody holds it
    assert observed_status(tmp_path, store.read_result(tmp_path)) == statuses.INTERRUPTED
    assert observed_status(tmp_path, None) == statuses.INTERRUPTED


def test_running_with_a_live_lock_is_running(tmp_path: Path) -> None:
    store.write_json(tmp_path / store.RESULT_FILE, {"status": "running"})
    lock = RunLock(tmp_path)
    assert lock.acquire()
    try:
        assert observed_status(tmp_path, store.read_result(tmp_path)) == statuses.RUNNING
    finally:
        lock.release()
    assert observed_status(tmp_path, store.read_result(tmp_path)) == statuses.INTERRUPTED


def test_final_statuses_are_shown_as_stored(tmp_path: Path) -> None:
    for status in statuses.FINAL:
        assert observed_status(tmp_path, {"status": status}) == status


@pytest.mark.parametrize(
    ("result", "reason"),
    [
        ({"status": "completed"}, ""),
        ({"status": "failed", "error": "Traceback ...\n  File x\nValueError: bad\n"}, "ValueError: bad"),
        ({"status": "diverged", "diverged_epoch": 3, "error": "loss is nan"}, "non-finite loss or weights at epoch 3"),
        ({"status": "diverged", "error": "loss is nan at step 7"}, "loss is nan at step 7"),
        ({"status": "killed", "signal": 9}, "killed by signal 9 (SIGKILL)"),
        ({"status": "killed", "signal": -15}, "killed by signal 15 (SIGTERM)"),
        ({"status": "killed", "signal": "SIGKILL"}, "killed by signal SIGKILL"),
        ({"status": "timeout", "time_limit": 3600}, "training.time_limit of 3600 s reached"),
        ({"status": "timeout", "spec": {"training": {"time_limit": 90.5}}}, "training.time_limit of 90.5 s reached"),
        ({"status": "timeout"}, statuses.MEANINGS["timeout"]),
        ({"status": "unavailable", "error": "keras is not installed"}, "keras is not installed"),
        ({"status": "interrupted"}, "left running by an executor that is gone; suite run resumes it"),
        ({"status": "running"}, "an executor holds its lock and is training it now"),
    ],
)
def test_status_reason_is_one_line(result: dict, reason: str) -> None:
    assert status_reason(result, result["status"]) == reason

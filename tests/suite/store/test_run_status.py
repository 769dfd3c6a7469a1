"""Honest statuses: a stale ``running`` reads as interrupted, and each status says why in one line."""

from pathlib import Path

import pytest

from suite import store
from suite.execution.run_lock import RunLock
from suite.store import statuses
from suite.store.run_status import observed_status, status_reason


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


DIVERGED_LOSS = "non-finite training loss at epoch 3, batch 7 (lr 10)"  # the worker's messages
KILLED = "worker exited with status -9 (killed by signal 9)"  # the executor's log tail
TIMED_OUT = "training.time_limit of 60 s reached at epoch 2, batch 5 (60.2 s since the worker started)"


@pytest.mark.parametrize(
    ("result", "reason"),
    [
        ({"status": "completed"}, ""),
        ({"status": "failed", "error": "Traceback ...\n  File x\nValueError: bad\n"}, "ValueError: bad"),
        ({"status": "diverged", "error": DIVERGED_LOSS, "diverged_at_epoch": 3}, DIVERGED_LOSS),
        ({"status": "diverged", "error": "loss is nan", "diverged_at_epoch": 3}, "loss is nan (epoch 3)"),
        ({"status": "diverged", "diverged_at_epoch": 0}, f"{statuses.MEANINGS['diverged']} (epoch 0)"),
        ({"status": "timeout", "error": TIMED_OUT, "timeout_at_epoch": 2}, TIMED_OUT),
        ({"status": "timeout", "time_limit": 3600}, "training.time_limit of 3600 s reached"),
        ({"status": "timeout", "spec": {"training": {"time_limit": 90.5}}}, "training.time_limit of 90.5 s reached"),
        ({"status": "timeout"}, statuses.MEANINGS["timeout"]),
        ({"status": "killed", "signal": 9}, "killed by signal 9 (SIGKILL)"),
        (
            {"status": "killed", "signal": -15, "error": "out of memory?"},
            "killed by signal 15 (SIGTERM); out of memory?",
        ),
        ({"status": "killed", "signal": "SIGKILL"}, "killed by signal SIGKILL"),
        (
            {"status": "killed", "error": "worker exited with status -9 (killed by signal 9)"},
            "worker exited with status -9 (killed by signal 9)",
        ),
        ({"status": "unavailable", "error": "keras is not installed"}, "keras is not installed"),
        ({"status": "interrupted"}, "left running by an executor that is gone; suite run resumes it"),
        ({"status": "running"}, "an executor holds its lock and is training it now"),
    ],
)
def test_status_reason_is_one_line(result: dict, reason: str) -> None:
    assert status_reason(result, result["status"]) == reason

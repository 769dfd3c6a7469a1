"""Claiming a run: an OS file lock on ``RUN_DIR/.lock``, held by the process that executes the run.

The lock is an ``flock`` (through the ``filelock`` package), so the operating system drops it when its
holder dies however it dies; a ``running`` status without a live lock therefore means ``interrupted``.
"""

from __future__ import annotations

from pathlib import Path

from filelock import FileLock, Timeout

LOCK_FILE = ".lock"


class RunLock:
    """A non-blocking claim on one run directory (``with RunLock(d) as claimed: ...``)."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self._lock = FileLock(str(directory / LOCK_FILE), thread_local=False)

    def acquire(self) -> bool:
        """Claim the run; False when another process (or thread) holds it."""
        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            return False
        return True

    def release(self) -> None:
        """Give the claim back (also done by the OS when the holder dies)."""
        if self._lock.is_locked:
            self._lock.release(force=True)


def is_claimed(directory: Path) -> bool:
    """True when some live process holds the run's lock right now (never blocks, never creates the directory)."""
    if not (directory / LOCK_FILE).exists():
        return False
    probe = RunLock(directory)
    if probe.acquire():
        probe.release()
        return False
    return True

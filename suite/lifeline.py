"""Child processes never outlive their parent: a lifeline pipe plus, on Linux, the parent-death signal.

The parent keeps the write end of a pipe and passes the read end to the child (``TLBENCH_LIFELINE_FD``).
When the parent dies, however it dies, the OS closes the write end; the child's watcher thread reads
EOF and the child kills itself. On Linux ``PR_SET_PDEATHSIG`` does the same from the kernel side.
Used by the executor's workers (:mod:`suite.execution`) and the preflight children (:mod:`suite.preflight`);
imports nothing of the suite.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import threading
from typing import Any

LIFELINE_FD_ENV = "TLBENCH_LIFELINE_FD"
PARENT_PID_ENV = "TLBENCH_PARENT_PID"
_PR_SET_PDEATHSIG = 1


def open_lifeline() -> tuple[int, int]:
    """(read_fd, write_fd): pass read_fd to the child, keep write_fd open while the child should live."""
    return os.pipe()


def child_environment(read_fd: int) -> dict[str, str]:
    """The variables that tell a worker where its lifeline is and who its parent is."""
    return {LIFELINE_FD_ENV: str(read_fd), PARENT_PID_ENV: str(os.getpid())}


def run_tied(command: list[str], env: dict[str, str], **kwargs: Any) -> subprocess.CompletedProcess:
    """``subprocess.run(command, env=env, **kwargs)`` for a child that calls :func:`watch_parent`: it dies with us."""
    read_fd, write_fd = open_lifeline()
    try:
        return subprocess.run(command, env={**env, **child_environment(read_fd)}, pass_fds=(read_fd,), **kwargs)
    finally:
        os.close(read_fd)
        os.close(write_fd)


def watch_parent() -> None:
    """In a child: die at once when the process that started it is gone (no-op without a lifeline)."""
    _parent_death_signal()
    expected = os.environ.get(PARENT_PID_ENV)
    if expected and os.getppid() != int(expected):  # the parent died before we got here
        _die()
    fd = os.environ.get(LIFELINE_FD_ENV)
    if fd is None:
        return
    thread = threading.Thread(target=_wait_for_eof, args=(int(fd),), name="lifeline", daemon=True)
    thread.start()


def _wait_for_eof(fd: int) -> None:
    try:
        while os.read(fd, 1024):
            pass
    except OSError:
        pass
    _die()


def _die() -> None:
    sys.stderr.write("parent process is gone: stopping\n")
    sys.stderr.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def _parent_death_signal() -> None:
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass

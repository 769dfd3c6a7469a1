"""Workers never outlive their executor: a lifeline pipe plus, on Linux, the parent-death signal.

The executor keeps the write end of a pipe and passes the read end to the worker (``TLBENCH_LIFELINE_FD``).
When the executor dies, however it dies, the OS closes the write end; the worker's watcher thread reads
EOF and the worker kills itself. On Linux ``PR_SET_PDEATHSIG`` does the same from the kernel side.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading

LIFELINE_FD_ENV = "TLBENCH_LIFELINE_FD"
PARENT_PID_ENV = "TLBENCH_PARENT_PID"
_PR_SET_PDEATHSIG = 1


def open_lifeline() -> tuple[int, int]:
    """(read_fd, write_fd): pass read_fd to the child, keep write_fd open while the child should live."""
    return os.pipe()


def child_environment(read_fd: int) -> dict[str, str]:
    """The variables that tell a worker where its lifeline is and who its parent is."""
    return {LIFELINE_FD_ENV: str(read_fd), PARENT_PID_ENV: str(os.getpid())}


def watch_parent() -> None:
    """In a worker: die at once when the executor that started it is gone (no-op without a lifeline)."""
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
    sys.stderr.write("executor is gone: worker stops\n")
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

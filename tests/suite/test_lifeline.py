"""A child started through suite.lifeline dies with its parent, however the parent dies (kill -9 here)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import psutil

PARENT = """
import sys
from suite.preflight.ask import ask_backend
ask_backend(sys.argv[1:])
"""


def _children_of(pid: int, timeout: float = 60.0) -> list[psutil.Process]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        children = psutil.Process(pid).children(recursive=True)
        if children:
            return children
        time.sleep(0.05)
    raise AssertionError("the parent started no child")


def test_a_preflight_child_dies_with_its_killed_parent() -> None:
    # the child imports torch and builds a model: seconds of work, long enough to outlive a killed parent
    model = '{"name": "simple_cnn"}'
    parent = subprocess.Popen([sys.executable, "-c", PARENT, "describe", "torch", model, "8", "8", "1", "2"])
    children = _children_of(parent.pid)
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait(timeout=30)
    gone, alive = psutil.wait_procs(children, timeout=15)
    for child in alive:
        child.kill()
    assert not alive, f"preflight child outlived its parent: {[child.cmdline() for child in alive]}"

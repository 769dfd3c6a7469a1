"""Starting one worker process for one run and waiting for it: the local launcher.

A launcher turns a :class:`WorkerJob` into a :class:`WorkerExit`. The executor owns everything else (claims,
statuses, display); the Ray executor supplies another launcher with the same ``launch`` method.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from suite import lifeline
from suite.runners.progress import PROGRESS_FD_ENV

LOG_FILE = "worker.log"
KILL_GRACE_SECONDS = 60.0
"""A worker past ``training.time_limit`` stops itself at the next step; past this grace it is killed."""

EventHandler = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class WorkerJob:
    """One run to execute: its directory (spec.toml and the result header are already there) and environment."""

    run_id: str
    name: str
    directory: Path
    env: dict[str, str]
    resources: dict[str, float | None] = field(default_factory=dict)
    time_limit: float | None = None
    cpu_cores: tuple[int, ...] = ()
    group: str = ""
    """What the worker imports (``backend/engine``): a warm worker only runs runs of its own group."""


@dataclass(frozen=True)
class WorkerExit:
    """How the worker ended: its exit status (negative: killed by that signal) and what else is known."""

    returncode: int
    timed_out: bool = False
    lost: str | None = None

    @property
    def signal(self) -> int | None:
        """The signal that killed the worker, if one did."""
        return -self.returncode if self.returncode < 0 else None


class Launcher(Protocol):
    """Runs one worker to its end."""

    def launch(self, job: WorkerJob, on_event: EventHandler) -> WorkerExit:
        """Start the worker of ``job``, pass its progress events to ``on_event``, return how it ended."""
        ...

    def close(self) -> None:
        """Release whatever the launcher holds (processes, connections)."""
        ...


class LocalLauncher:
    """``python -m suite.execution.worker RUN_DIR`` as a child process of this one, tied to it by a lifeline."""

    def __init__(self) -> None:
        self._live: set[subprocess.Popen[bytes]] = set()
        self._guard = threading.Lock()
        self._closed = False

    def launch(self, job: WorkerJob, on_event: EventHandler) -> WorkerExit:  # noqa: D102
        with self._guard:
            if self._closed:
                return WorkerExit(-9, lost="worker not started: the executor is stopping")
        return run_worker_process(job.directory, job.env, on_event, job.time_limit, job.cpu_cores, on_start=self._track)

    def close(self) -> None:
        """Kill every worker still running (the executor is stopping); a worker started from now on dies at once."""
        with self._guard:
            self._closed = True
            live = list(self._live)
        for process in live:
            if process.poll() is None:
                process.kill()

    def _track(self, process: subprocess.Popen[bytes]) -> None:
        with self._guard:
            self._live = {p for p in self._live if p.poll() is None} | {process}
            closed = self._closed
        if closed:  # started by a thread that passed its stop check just before close(): it must not run a whole run
            process.kill()


def run_worker_process(
    directory: Path,
    env: dict[str, str],
    on_event: EventHandler,
    time_limit: float | None = None,
    cpu_cores: tuple[int, ...] = (),
    on_start: Callable[[subprocess.Popen[bytes]], None] | None = None,
) -> WorkerExit:
    """Run the worker for ``directory`` to its end; its output goes to ``directory/worker.log``.

    The worker dies with this process (lifeline) and is killed ``KILL_GRACE_SECONDS`` after ``time_limit``.
    """
    progress_read, progress_write = os.pipe()
    life_read, life_write = lifeline.open_lifeline()
    child_env = {**env, PROGRESS_FD_ENV: str(progress_write), **lifeline.child_environment(life_read)}
    try:
        with open(directory / LOG_FILE, "ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "suite.execution.worker", str(directory)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=child_env,
                pass_fds=(progress_write, life_read),
            )
    except BaseException:
        for fd in (progress_read, progress_write, life_read, life_write):
            os.close(fd)
        raise
    os.close(progress_write)
    os.close(life_read)
    try:
        if on_start is not None:
            on_start(process)
        if cpu_cores and hasattr(os, "sched_setaffinity"):
            _pin(process.pid, cpu_cores)
        killer = None
        if time_limit is not None:
            killer = threading.Timer(time_limit + KILL_GRACE_SECONDS, process.kill)
            killer.daemon = True
            killer.start()
        with os.fdopen(progress_read, "r", encoding="utf-8", errors="replace") as events:
            for line in events:
                on_event(parse_event(line))
        returncode = process.wait()
        timed_out = killer is not None and killer.finished.is_set() and not killer.is_alive()
        if killer is not None:
            killer.cancel()
        return WorkerExit(returncode, timed_out=timed_out and returncode < 0)
    finally:
        if process.poll() is None:  # interrupted while waiting: the worker must not outlive us
            process.kill()
            process.wait()
        os.close(life_write)


def _pin(pid: int, cores: tuple[int, ...]) -> None:
    try:
        os.sched_setaffinity(pid, cores)
    except OSError:
        pass


def parse_event(line: str) -> dict[str, Any]:
    """One progress line from a worker as an event (plain text becomes a ``message`` event)."""
    try:
        event = json.loads(line)
    except json.JSONDecodeError:
        return {"event": "message", "text": line.rstrip()}
    return event if isinstance(event, dict) else {"event": "message", "text": line.rstrip()}

"""Warm workers: the local launcher that keeps one worker process per backend/engine and slot and reuses it.

A worker (``python -m suite.execution.worker --serve``, :mod:`suite.execution.serve`) imports its framework once
and runs one run after another; :class:`WarmLauncher` has the same ``launch`` as
:class:`~suite.execution.launch.LocalLauncher`, so the executor, claims, statuses and resume are unchanged.

Which worker runs a run is decided by its key: the backend/engine, every variable of the run's environment but
the per-run ones (:data:`PER_RUN_VARIABLES`: threads, devices, engine and determinism variables all make another
worker) and the slot's CPU cores. A worker is replaced when its run did not complete (failed, crashed, diverged,
timed out, killed), after :data:`MAX_RUNS` runs, or when its resident set passes :data:`MAX_RSS_BYTES`. Workers die
with this process (their lifeline) and are killed by :meth:`WarmLauncher.close`; they are started from one
long-lived thread, since a child's parent-death signal follows the thread that started it.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import IO, Any

from suite import lifeline
from suite.execution.launch import KILL_GRACE_SECONDS, EventHandler, WorkerExit, WorkerJob, parse_event
from suite.execution.serve import SERVE_FLAG
from suite.runners.progress import PROGRESS_FD_ENV

PER_RUN_VARIABLES = frozenset({"PYTHONHASHSEED"})
"""Variables set for each run inside a warm worker (read after start-up only); every other one keys the worker."""
MAX_RUNS = 25
"""Runs one worker executes before it is replaced by a fresh one."""
MAX_RSS_BYTES = 6 * 1024**3
"""A worker whose resident set passes this after a run is replaced."""
MAX_IDLE = 4
"""Idle workers kept at once (the oldest goes first)."""

WorkerKey = tuple[str, tuple[tuple[str, str], ...], tuple[int, ...]]


class WorkerGone(RuntimeError):
    """A warm worker ended before it answered; the text is the last line it wrote."""


def worker_key(group: str, env: dict[str, str], cores: tuple[int, ...]) -> WorkerKey:
    """Runs with equal keys may share a worker: same backend/engine, process environment and CPU cores."""
    return group, tuple(sorted((k, v) for k, v in env.items() if k not in PER_RUN_VARIABLES)), tuple(cores)


class WarmLauncher:
    """Runs each :class:`WorkerJob` in a warm worker of its key, starting or replacing workers as needed."""

    def __init__(self, max_runs: int = MAX_RUNS, max_rss_bytes: int = MAX_RSS_BYTES, max_idle: int = MAX_IDLE) -> None:
        self.max_runs, self.max_rss_bytes, self.max_idle = max_runs, max_rss_bytes, max_idle
        self._idle: list[_Worker] = []
        self._all: set[_Worker] = set()
        self._guard = threading.Lock()
        self._closed = False

    def launch(self, job: WorkerJob, on_event: EventHandler) -> WorkerExit:
        """Run ``job`` in a warm worker of its key; a worker whose run did not complete is replaced."""
        key = worker_key(job.group, job.env, job.cpu_cores)
        for _ in range(2):  # an idle worker that died before it took the run is replaced once
            worker = self._checkout(key, job.env)
            if worker is None:
                return WorkerExit(-9, lost="worker not started: the executor is stopping")
            exit_info = worker.run(job, on_event)
            self._checkin(worker, healthy=exit_info is not None and exit_info.returncode == 0)
            if exit_info is not None:
                return exit_info
        return WorkerExit(-9, lost="no warm worker took the run: two in a row died before it started")

    def check(self, group: str, env: dict[str, str], cores: tuple[int, ...], spec_texts: list[str]) -> list[dict]:
        """The preflight problems of runs of one backend, answered by the warm worker that will run them."""
        worker = self._checkout(worker_key(group, env, cores), env)
        if worker is None:
            raise WorkerGone("the executor is stopping")
        try:
            problems = worker.check(spec_texts)
        except WorkerGone:
            self._checkin(worker, healthy=False)
            raise
        self._checkin(worker, healthy=True)
        return problems

    def close(self) -> None:
        """Kill every worker, busy or idle (the executor is stopping or done); no worker starts from now on."""
        with self._guard:
            self._closed = True
            workers, self._idle = list(self._all), []
            self._all.clear()
        for worker in workers:
            worker.stop()

    def live_pids(self) -> list[int]:
        """Process ids of the workers alive now (tests, benchmarks)."""
        with self._guard:
            return [worker.process.pid for worker in self._all if worker.process.poll() is None]

    def _checkout(self, key: WorkerKey, env: dict[str, str]) -> _Worker | None:
        with self._guard:
            if self._closed:
                return None
            for worker in self._idle:
                if worker.key == key and worker.process.poll() is None:
                    self._idle.remove(worker)
                    return worker
            worker = _SPAWNER.call(lambda: _Worker.start(key, env))
            self._all.add(worker)
            return worker

    def _checkin(self, worker: _Worker, healthy: bool) -> None:
        keep = healthy and worker.process.poll() is None and worker.runs < self.max_runs
        keep = keep and worker.rss_bytes() <= self.max_rss_bytes
        retired = [] if keep else [worker]
        with self._guard:
            if keep and not self._closed:
                self._idle.append(worker)
                while len(self._idle) > self.max_idle:
                    retired.append(self._idle.pop(0))
            elif keep:
                retired.append(worker)
            self._all.difference_update(retired)
        for old in retired:
            old.stop()


class _Worker:
    """One warm worker process: its request pipe (stdin), its answer/progress pipe and its lifeline."""

    def __init__(self, key: WorkerKey, process: subprocess.Popen[bytes], answers: IO[str], life: int, log: Path):
        self.key, self.process, self.runs = key, process, 0
        self._answers, self._life, self._log = answers, life, log

    @classmethod
    def start(cls, key: WorkerKey, env: dict[str, str]) -> _Worker:
        """Start a worker with the run's environment, less its per-run variables; pinned to the key's cores."""
        answer_read, answer_write = os.pipe()
        life_read, life_write = lifeline.open_lifeline()
        child_env = {k: v for k, v in env.items() if k not in PER_RUN_VARIABLES}
        child_env.update({PROGRESS_FD_ENV: str(answer_write), **lifeline.child_environment(life_read)})
        handle, log = tempfile.mkstemp(prefix="tlbench-warm-", suffix=".log")
        try:
            process = subprocess.Popen(
                [sys.executable, "-m", "suite.execution.worker", SERVE_FLAG],
                stdin=subprocess.PIPE,
                stdout=handle,
                stderr=subprocess.STDOUT,
                env=child_env,
                pass_fds=(answer_write, life_read),
            )
        except BaseException:
            for fd in (answer_read, life_write):
                os.close(fd)
            raise
        finally:
            for fd in (answer_write, life_read, handle):
                os.close(fd)
        if key[2] and hasattr(os, "sched_setaffinity"):
            try:
                os.sched_setaffinity(process.pid, key[2])
            except OSError:
                pass
        answers = os.fdopen(answer_read, "r", encoding="utf-8", errors="replace")
        return cls(key, process, answers, life_write, Path(log))

    def run(self, job: WorkerJob, on_event: EventHandler) -> WorkerExit | None:
        """Run ``job`` here; how it ended, as a fresh worker's exit would say (a dead worker: its exit status).

        None when the worker was gone before it could take the run.
        """
        extra = {k: v for k, v in job.env.items() if k in PER_RUN_VARIABLES}
        if self.process.poll() is not None or not self._send(
            {"do": "run", "directory": str(job.directory), "env": extra}
        ):
            self.process.wait()
            return None
        killer = None
        if job.time_limit is not None:
            killer = threading.Timer(job.time_limit + KILL_GRACE_SECONDS, self.process.kill)
            killer.daemon = True
            killer.start()
        try:
            for line in self._answers:
                event = parse_event(line)
                if event.get("event") == "run_exit":
                    self.runs += 1
                    return WorkerExit(int(event["returncode"]))
                on_event(event)
            returncode = self.process.wait()
        finally:
            if killer is not None:
                killer.cancel()
        timed_out = killer is not None and killer.finished.is_set() and returncode < 0
        return WorkerExit(returncode if returncode != 0 else -9, timed_out=timed_out)

    def check(self, spec_texts: list[str]) -> list[dict]:
        """The worker's preflight answer for ``spec_texts``; :class:`WorkerGone` when it died first."""
        if self._send({"do": "check", "specs": spec_texts}):
            for line in self._answers:
                event = parse_event(line)
                if event.get("event") == "checked":
                    return list(event["problems"])
        self.process.wait()
        raise WorkerGone(self._last_line())

    def rss_bytes(self) -> int:
        """The worker's resident set now (0 when unknown)."""
        try:
            with open(f"/proc/{self.process.pid}/status", encoding="ascii") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) * 1024
        except (OSError, ValueError, IndexError):
            pass
        return 0

    def stop(self) -> None:
        """Kill the worker and release its pipes and log."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for closing in (self._answers.close, lambda: os.close(self._life), self._log.unlink):
            try:
                closing()
            except OSError:
                pass
        if self.process.stdin is not None:
            try:
                self.process.stdin.close()
            except OSError:
                pass

    def _send(self, request: dict[str, Any]) -> bool:
        try:
            assert self.process.stdin is not None
            self.process.stdin.write((json.dumps(request) + "\n").encode())
            self.process.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            return False
        return True

    def _last_line(self) -> str:
        try:
            lines = self._log.read_text(encoding="utf-8", errors="replace").strip().splitlines()
        except OSError:
            lines = []
        return lines[-1] if lines else f"the warm worker exited with status {self.process.returncode}"


class _Spawner:
    """Starts processes from one long-lived daemon thread (their parent-death signal then follows this process)."""

    def __init__(self) -> None:
        self._requests: queue.Queue[tuple[Callable[[], Any], Future[Any]]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._guard = threading.Lock()

    def call(self, function: Callable[[], Any]) -> Any:
        """``function()``, run on the spawner thread."""
        with self._guard:
            if self._thread is None:
                self._thread = threading.Thread(target=self._serve, name="warm-spawner", daemon=True)
                self._thread.start()
        future: Future[Any] = Future()
        self._requests.put((function, future))
        return future.result()

    def _serve(self) -> None:
        while True:
            function, future = self._requests.get()
            try:
                future.set_result(function())
            except BaseException as exc:  # noqa: BLE001 - handed to the caller
                future.set_exception(exc)


_SPAWNER = _Spawner()

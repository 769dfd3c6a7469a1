"""A warm worker: one process that imports its backend's framework once and runs that backend's runs in turn.

Started by :class:`suite.execution.warm.WarmLauncher` as ``python -m suite.execution.worker --serve`` (so it dies
with its executor and ignores SIGINT like any worker). It reads one JSON request per line on stdin and answers on
the progress pipe (``SUITE_PROGRESS_FD``), where a run's own progress events go too:

- ``{"do": "run", "directory": RUN_DIR, "env": {...}}``: the run, exactly as ``python -m suite.execution.worker
  RUN_DIR`` would do it (:func:`suite.execution.worker.run_directory`), its output in ``RUN_DIR/worker.log``;
  answered ``{"event": "run_exit", "returncode": N}``, N being the exit status a fresh worker would have had.
- ``{"do": "check", "specs": [spec.toml texts]}``: the preflight of those runs
  (:func:`suite.preflight.check.check_runs`); answered ``{"event": "checked", "problems": [...]}``.

Each run starts from the state a fresh process has: the environment is the worker's own plus the run's
variables (restored after), and the runner puts back what a run may leave behind in the process (its
``reset_process_state``: Keras session and dtype policies, torch's default dtype and determinism switches);
each runner seeds every RNG when it opens its session. Whatever needs another process environment (engine,
threads, devices, determinism variables) is another worker: the launcher keys its workers by them.
"""

from __future__ import annotations

import gc
import json
import os
import sys
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from suite import store
from suite.execution.launch import LOG_FILE
from suite.runners.progress import PROGRESS_FD_ENV, PipeProgress

SERVE_FLAG = "--serve"
"""``python -m suite.execution.worker --serve`` starts a warm worker."""
WARM_LINE = "warm worker"
"""Each run's worker.log opens with ``warm worker PID, run N in this process``."""


def serve() -> int:
    """Answer requests until stdin closes (the launcher retires this worker); exit status 0."""
    answers = os.fdopen(int(os.environ[PROGRESS_FD_ENV]), "w", buffering=1, encoding="utf-8")
    base_environment = dict(os.environ)
    runs = 0
    for line in sys.stdin:
        request = json.loads(line)
        if request.get("do") == "check":
            _answer(answers, {"event": "checked", "problems": _check(request["specs"])})
        elif request.get("do") == "run":
            directory = Path(request["directory"])
            runs += 1
            with _run_environment(base_environment, request.get("env", {})), _output_to(directory / LOG_FILE):
                print(f"{WARM_LINE} {os.getpid()}, run {runs} in this process", file=sys.stderr, flush=True)
                code = _run(directory, PipeProgress(answers))
            _answer(answers, {"event": "run_exit", "returncode": code})
    return 0


def _answer(stream: IO[str], payload: dict[str, Any]) -> None:
    stream.write(json.dumps(payload) + "\n")
    stream.flush()


def _check(spec_texts: list[str]) -> list[dict[str, str]]:
    from suite.preflight.check import check_runs

    return check_runs(spec_texts)


def _run(directory: Path, progress: PipeProgress) -> int:
    """One run as a fresh worker does it, after the runner has put the process back as it found it."""
    from suite.execution.worker import FAILED_EXIT_STATUS, run_directory

    clock = time.monotonic()
    try:
        _reset_backend(directory)
        gc.collect()  # the earlier run's garbage goes; what survives (modules, framework state) is frozen, so the
        gc.freeze()  # collections during the run (e.g. before peak memory is measured) skip it as a fresh process would
        return run_directory(directory, clock, progress)
    except Exception:  # noqa: BLE001 - the spec could not be read: the executor records the failure from the log
        traceback.print_exc()
        return FAILED_EXIT_STATUS


def _reset_backend(directory: Path) -> None:
    """Let the run's runner undo what an earlier run in this process may have left (no-op if it cannot load)."""
    from suite.runners.registry import BackendUnavailableError, create_runner
    from suite.spec.serialize import spec_from_toml

    spec = spec_from_toml((directory / store.SPEC_FILE).read_text(encoding="utf-8"))
    try:
        runner = create_runner(spec.backend, spec.engine)
    except BackendUnavailableError:
        return  # run_directory records it as unavailable
    reset = getattr(runner, "reset_process_state", None)
    if reset is not None:
        reset()


@contextmanager
def _run_environment(base: dict[str, str], extra: dict[str, str]) -> Iterator[None]:
    """``os.environ`` is the worker's own plus the run's variables while it runs, then the worker's again."""
    os.environ.clear()
    os.environ.update({**base, **extra})
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(base)


@contextmanager
def _output_to(log: Path) -> Iterator[None]:
    """The process's stdout and stderr (file descriptors 1 and 2) go to ``log`` while the run runs."""
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    saved = [os.dup(1), os.dup(2)]
    with open(log, "ab") as handle:
        os.dup2(handle.fileno(), 1)
        os.dup2(handle.fileno(), 2)
    try:
        yield
    finally:
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in saved:
            os.close(fd)

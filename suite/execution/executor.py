"""Run every spec of a study in worker processes (warm ones by default), each run claimed by a lock, N at a time.

Any number of executors (``suite run`` processes, Ray drivers) may work on one output directory: a run is
claimed with an OS file lock (:mod:`suite.execution.run_lock`) by the process that executes it, so each run is
executed exactly once, and a run whose executor died is ``interrupted`` and resumed by the next one.
"""

from __future__ import annotations

import fnmatch
import os
import re
import signal
import threading
from collections import Counter, deque
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from filelock import FileLock

from suite import store
from suite.efficiency import not_measured
from suite.execution.display import Display
from suite.execution.launch import LOG_FILE, Launcher, WorkerExit, WorkerJob
from suite.execution.run_lock import RunLock
from suite.execution.slots import Slot, deterministic_environment, make_slots
from suite.execution.warm import WarmLauncher
from suite.runners.progress import PROGRESS_FD_ENV
from suite.runners.registry import get_runner_entry
from suite.spec.loader import Study
from suite.spec.models import ExperimentSpec
from suite.spec.serialize import run_id, spec_to_data, spec_to_toml
from suite.store import statuses
from suite.store.run_status import whole_reason
from suite.strategies import reference_class, strategy_label
from suite.tracking import StudyTracker

if TYPE_CHECKING:
    from rich.console import Console

    from suite.tuning.driver import TunedConfiguration

__all__ = ["LOG_FILE", "RunRecord", "config_name", "result_header", "run_study", "select_runs", "status_counts"]

_SEED_SUFFIX = re.compile(r",?seed=\d+(?=\]$)")
SKIPPED = "skipped"
RUNNING_ELSEWHERE = "running elsewhere"
STUDY_LOCK = ".study.lock"


@dataclass(frozen=True)
class RunRecord:
    """Outcome of one run as this executor saw it (``skipped``: completed before; see suite.store.statuses)."""

    run_id: str
    name: str
    status: str
    directory: Path
    error: str | None = None
    reason: str | None = None  # why it did not complete, whole (suite.store.run_status.whole_reason)


def config_name(name: str) -> str:
    """Run name without its seed part: ``mlp[backend=torch,seed=1]`` -> ``mlp[backend=torch]``."""
    stripped = _SEED_SUFFIX.sub("", name)
    return stripped[:-2] if stripped.endswith("[]") else stripped


def result_header(spec: ExperimentSpec, rid: str, study: str, command: str = "") -> dict[str, Any]:
    """Identifying fields written to result.json before the run starts (``command``: the invocation running it)."""
    return {
        "command": command,
        "run_id": rid,
        "name": spec.name,
        "config_name": config_name(spec.name),
        "seed": spec.seed,
        "status": statuses.RUNNING,
        "error": None,
        "study": study,
        "backend": spec.backend,
        "engine": get_runner_entry(spec.backend).resolve_engine(spec.engine),
        "model": spec.model.name,
        "weights": spec.model.weights,
        "dataset": spec.dataset.display_name,
        "strategy": strategy_label(spec.strategy),
        "strategy_class": reference_class(spec.strategy),
        "spec": spec_to_data(spec),
    }


def select_runs(runs: Sequence[ExperimentSpec], patterns: Sequence[str]) -> list[ExperimentSpec]:
    """The runs whose name equals, or matches as a glob, any of ``patterns`` (all runs when there are none).

    A run name given as is matches itself although its brackets read as a glob class (``mlp[backend=torch]``).
    """
    if not patterns:
        return list(runs)
    return [
        spec
        for spec in runs
        if any(spec.name == pattern or fnmatch.fnmatchcase(spec.name, pattern) for pattern in patterns)
    ]


def status_counts(records: Sequence[RunRecord]) -> list[str]:
    """One line per status, e.g. ``completed: 3``, in a fixed order (``skipped`` runs count as completed)."""
    counts = Counter(statuses.COMPLETED if record.status == SKIPPED else record.status for record in records)
    order = [statuses.COMPLETED, *statuses.FINAL[1:], statuses.INTERRUPTED, RUNNING_ELSEWHERE]
    return [f"{status}: {counts[status]}" for status in [*order, *sorted(set(counts) - set(order))] if counts[status]]


def run_study(
    study: Study,
    out_dir: Path,
    *,
    quiet: bool = False,
    command: str = "",
    tracker: StudyTracker | None = None,
    jobs: int = 1,
    launcher: Launcher | None = None,
    retry_failed: bool = False,
    console: Console | None = None,
) -> list[RunRecord]:
    """Execute every run of ``study`` under ``out_dir``, ``jobs`` at a time; returns one record per run.

    Completed runs are skipped; interrupted and unavailable ones are (re)started, continuing from their
    last epoch when they left a resume state; failed, diverged, timed-out and killed runs are rerun only
    with ``retry_failed``. After each run ``tracker`` tracks its stored result (TensorBoard, MLflow).
    A tuned configuration (``study.tune``) is one unit of work: its trials, then its final runs
    (:mod:`suite.tuning.driver`); its records are the trials' and the final runs'.
    Interrupting the executor (Ctrl-C, SIGTERM) stops every worker and leaves their runs ``interrupted``.
    Without a ``launcher`` the runs go to warm workers (:class:`~suite.execution.warm.WarmLauncher`), closed
    at the end; :class:`~suite.execution.launch.LocalLauncher` starts one fresh process per run.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    tracker = tracker or StudyTracker(out_dir, study.name, study.mlflow)
    owned = launcher is None
    launcher = launcher or WarmLauncher()
    try:
        return _run_units(study, out_dir, quiet, command, tracker, jobs, launcher, retry_failed, console)
    finally:
        if owned:
            launcher.close()


def _run_units(
    study: Study,
    out_dir: Path,
    quiet: bool,
    command: str,
    tracker: StudyTracker,
    jobs: int,
    launcher: Launcher,
    retry_failed: bool,
    console: Console | None,
) -> list[RunRecord]:
    """:func:`run_study` with its tracker and launcher made."""
    from suite.tuning.driver import planned_runs, prepare_storage, tune_configuration, work_units

    _write_study_file(study, out_dir, command)
    slots = make_slots(jobs)
    free_slots: list[Slot] = list(slots)
    slot_lock = threading.Lock()
    stop = threading.Event()
    context = _Context(study.name, out_dir, launcher, retry_failed, stop, command)
    records: dict[int, list[RunRecord]] = {}
    if study.tune:
        prepare_storage(out_dir)
    total = planned_runs(study.runs, study.tune)
    backends = len({run.backend for run in study.runs})
    planned = {run.name: (config_name(run.name), run.training.epochs) for run in study.runs}
    display = Display(quiet, total, concurrent=jobs > 1, console=console, backends=backends, planned=planned, jobs=jobs)
    with display, _terminate_as_interrupt():
        context.display = display

        def execute(index: int, unit: ExperimentSpec | TunedConfiguration) -> list[RunRecord]:
            with slot_lock:
                slot = free_slots.pop()
            try:
                if isinstance(unit, ExperimentSpec):
                    return [_execute_one(spec=unit, slot=slot, context=context)]
                return tune_configuration(unit, out_dir, partial(_execute_one, slot=slot, context=context), stop.is_set)
            finally:
                with slot_lock:
                    free_slots.append(slot)

        pool = ThreadPoolExecutor(max_workers=max(jobs, 1), thread_name_prefix="run")
        pending: dict[Future[list[RunRecord]], int] = {}
        queue = deque(enumerate(work_units(study.runs, study.tune)))
        try:
            while queue or pending:
                while queue and len(pending) < max(jobs, 1):
                    index, unit = queue.popleft()
                    pending[pool.submit(execute, index, unit)] = index
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    index = pending.pop(future)
                    records[index] = future.result()
                    for record in records[index]:
                        note = tracker.track(record.directory)
                        if note:
                            display.handle_event({"event": "message", "text": note})
        except BaseException:
            stop.set()
            launcher.close()
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        pool.shutdown(wait=True)
    return [record for index in sorted(records) for record in records[index]]


@dataclass
class _Context:
    study_name: str
    out_dir: Path
    launcher: Launcher
    retry_failed: bool
    stop: threading.Event
    command: str = ""
    display: Any = None


def _execute_one(
    spec: ExperimentSpec,
    slot: Slot,
    context: _Context,
    extra: dict[str, Any] | None = None,
    directory: Path | None = None,
) -> RunRecord:
    """Claim, skip or launch one run (``extra``: more result.json fields; ``directory``: else ``OUT/runs/<id>``)."""
    rid = run_id(spec)
    directory = directory or store.run_dir(context.out_dir, rid)
    display = context.display
    if context.stop.is_set():
        return RunRecord(rid, spec.name, statuses.INTERRUPTED, directory, "the executor was interrupted")
    claim = RunLock(directory)
    if not claim.acquire():
        display.run_skipped(spec.name, RUNNING_ELSEWHERE)
        return RunRecord(rid, spec.name, RUNNING_ELSEWHERE, directory)
    try:
        previous = store.read_result(directory)
        problem = store.outputs_problem(directory)
        if problem is None:
            display.run_skipped(spec.name, "already completed")
            return RunRecord(rid, spec.name, SKIPPED, directory)
        earlier = (previous or {}).get("status")
        if earlier == statuses.PRUNED:
            display.run_skipped(spec.name, "pruned before (a tuning trial is never retried)")
            return RunRecord(rid, spec.name, earlier, directory, (previous or {}).get("error"))
        if earlier in statuses.RETRIED_ON_REQUEST and not context.retry_failed:
            reason = whole_reason(previous or {})
            display.run_skipped(spec.name, f"{earlier} before ({reason}); --retry-failed reruns it")
            return RunRecord(rid, spec.name, earlier, directory, (previous or {}).get("error"), reason)
        if earlier == statuses.COMPLETED:
            note = f"{spec.name}: rerun, its outputs are damaged: {problem}{_set_damage_aside(directory)}"
            display.handle_event({"event": "message", "text": note})
        completed = previous if earlier == statuses.COMPLETED else None
        return _launch(spec, rid, directory, slot, context, extra or {}, completed)
    finally:
        claim.release()


def _set_damage_aside(directory: Path) -> str:
    """Move the run's damaged file aside (kept for inspection); the note saying where, or nothing."""
    damaged = store.damaged_path(directory)
    if damaged is None or damaged.parent != directory:
        return ""
    return f"; moved aside to {store.move_aside(damaged).name}"


def _launch(
    spec: ExperimentSpec,
    rid: str,
    directory: Path,
    slot: Slot,
    context: _Context,
    extra: dict[str, Any],
    completed_before: dict[str, Any] | None = None,
) -> RunRecord:
    """Start the run's worker and record how it ended; a rerun never turns ``completed_before`` into a worse status."""
    store.write_text(directory / store.SPEC_FILE, spec_to_toml(spec))
    header = {**result_header(spec, rid, context.study_name, context.command), **extra}
    store.write_json(directory / store.RESULT_FILE, header)
    display = context.display
    display.run_started(spec.name)
    job = WorkerJob(
        run_id=rid,
        name=spec.name,
        directory=directory,
        env=job_environment(spec, slot),
        resources=run_resources(spec),
        time_limit=spec.training.time_limit,
        cpu_cores=slot.cpu_cores,
        group=worker_group(spec),
    )
    exit_info = context.launcher.launch(job, lambda event: display.handle_event(event, spec.name))
    result = _final_result(header, directory, exit_info, context.stop.is_set())
    if completed_before is not None and result["status"] != statuses.COMPLETED:
        rerun = {"status": result["status"], "error": result.get("error")}
        store.write_json(directory / store.RESULT_FILE, {**completed_before, "last_rerun": rerun})
    display.run_finished(spec.name, result["status"], result)
    reason = None if result["status"] == statuses.COMPLETED else whole_reason(result)
    return RunRecord(rid, spec.name, result["status"], directory, result.get("error"), reason)


def _final_result(header: dict[str, Any], directory: Path, exit_info: WorkerExit, interrupted: bool) -> dict[str, Any]:
    """The run's status from what the worker wrote and how it ended; written to result.json when it differs."""
    result = store.read_result(directory) or header
    status = result.get("status")
    if exit_info.returncode == 0 and status == statuses.COMPLETED:
        return result
    if status in statuses.FINAL and status != statuses.COMPLETED and exit_info.returncode > 0:
        return result  # the worker recorded its own failure, divergence, timeout or unavailability
    if interrupted or exit_info.lost:
        reason = exit_info.lost or "the executor was interrupted; suite run resumes this run"
        final = {**header, "status": statuses.INTERRUPTED, "error": reason}
    elif exit_info.timed_out:
        final = {**header, "status": statuses.TIMEOUT, "error": "killed past training.time_limit"}
    elif exit_info.signal is not None:
        final = {**header, "status": statuses.KILLED, "signal": exit_info.signal, "error": _killed_reason(exit_info)}
    else:
        final = {**header, "status": statuses.FAILED, "error": _log_tail(directory / LOG_FILE, exit_info.returncode)}
    for key in ("resumed_from_epoch", "resumes"):
        if key in result:
            final[key] = result[key]
    final["efficiency"] = not_measured(f"the run ended {final['status']} before its model was finished")
    store.write_json(directory / store.RESULT_FILE, final)
    return final


def _killed_reason(exit_info: WorkerExit) -> str:
    number = exit_info.signal or 0
    try:
        name = signal.Signals(number).name
    except ValueError:
        name = f"signal {number}"
    hint = " (kill -9 or the out-of-memory killer)" if number == signal.SIGKILL else ""
    return f"worker killed by {name}{hint}; suite run --retry-failed resumes it from its last epoch"


def worker_environment(spec: ExperimentSpec, progress_fd: int | None = None) -> dict[str, str]:
    """Environment for the child: what its backend's engine needs, quieter TensorFlow logs, passive OpenMP."""
    env = dict(os.environ)
    if progress_fd is not None:
        env[PROGRESS_FD_ENV] = str(progress_fd)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # numpy/scikit-learn and torch each bring an OpenMP runtime; with both spin-waiting on few cores,
    # torch training steps ran 15-30x slower here. Passive waiting removes the fight.
    env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    env["PYTHONHASHSEED"] = str(spec.seed)
    entry = get_runner_entry(spec.backend)
    env.update(entry.child_environment(entry.resolve_engine(spec.engine)))
    return env


def worker_group(spec: ExperimentSpec) -> str:
    """``backend/engine``: what a worker process for ``spec`` imports (runs of one group may share a warm worker)."""
    return f"{spec.backend}/{get_runner_entry(spec.backend).resolve_engine(spec.engine) or ''}"


def job_environment(spec: ExperimentSpec, slot: Slot) -> dict[str, str]:
    """The worker's environment in ``slot``: a deterministic run's thread pools are fixed, whatever the slot."""
    env = {**worker_environment(spec), **slot.env}
    if spec.training.deterministic:
        env.update(deterministic_environment(env))
    return env


def run_resources(spec: ExperimentSpec) -> dict[str, float | None]:
    """What one run asks of a cluster slot: ``training.resources``, defaults from ``training.device``.

    GPUs: ``cuda`` asks for one, ``cpu`` for none; ``auto`` gives None, "one if the cluster has GPUs", which
    the launcher that knows the cluster decides.
    """
    wanted = spec.training.resources
    defaults = {"cuda": 1.0, "cpu": 0.0, "auto": None}
    gpus = wanted.gpus if wanted.gpus is not None else defaults[spec.training.device]
    return {"cpus": wanted.cpus if wanted.cpus is not None else 1.0, "gpus": gpus}


def _log_tail(path: Path, return_code: int, lines: int = 15) -> str:
    try:
        tail = deque(path.read_text(encoding="utf-8", errors="replace").splitlines(), maxlen=lines)
    except OSError:
        tail = deque()
    return "\n".join([*tail, f"worker exited with status {return_code}"])


@contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM (a scheduler's preemption, ``kill``) stops the study like Ctrl-C: workers stopped, runs interrupted."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _write_study_file(study: Study, out_dir: Path, command: str) -> None:
    """study.json: the study's identity, the union of run ids, and every invocation on this directory.

    ``command`` and ``date`` stay those of the first invocation (the study's origin); each later one, a
    subset (``--only``, ``--seeds``) or a rerun, is appended to ``invocations`` with the runs it selected.
    Each run's result.json records the command that ran it.
    """
    path = out_dir / store.STUDY_FILE
    now = datetime.now(UTC).isoformat(timespec="seconds")
    with FileLock(str(out_dir / STUDY_LOCK), timeout=60):
        try:
            previous = store.load_study(out_dir)
        except store.StoreError:
            previous = {}  # damaged: rewritten whole below (the run ids come back as their runs are claimed)
        known = previous.get("run_ids", [])
        selected = [run_id(s) for s in study.runs]
        ids = list(dict.fromkeys([*(known if isinstance(known, list) else []), *selected]))
        invocations = previous.get("invocations")
        invocations = invocations if isinstance(invocations, list) else []
        store.write_json(
            path,
            {
                "study": study.name,
                "description": study.description,
                "spec_file": str(study.source),
                "command": previous.get("command") or command,
                "date": previous.get("date") or now,
                "run_ids": ids,
                "invocations": [*invocations, {"command": command, "date": now, "run_ids": selected}],
            },
        )

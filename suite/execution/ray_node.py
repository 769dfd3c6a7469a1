"""What runs on a Ray node: the worker of one run, its progress streamed back to the driver.

Two ways: :func:`run_on_node` is one Ray task per run that starts a fresh worker process (``--fresh-workers``);
:class:`NodeWorker` is a Ray actor that keeps warm workers (:class:`suite.execution.warm.WarmLauncher`) and runs
one run after another in them, each from the state a fresh process has (the driver's side:
:mod:`suite.execution.ray_pool`).

Either way the node checks whether it sees the driver's token file at the driver's path (a shared filesystem).
If so the worker works in the driver's run directory; if not, the run directory is rebuilt in a temp directory
from the files sent with the run, each new resume state is sent back as soon as the worker writes it (a lost
node loses at most the epoch in progress), and every file is returned at the end. The worker is tied to the Ray
worker process (task or actor) by its lifeline, so it dies with it.
"""

from __future__ import annotations

import os
import queue
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from suite.execution import run_transfer
from suite.execution.launch import EventHandler, WorkerExit, WorkerJob, run_worker_process
from suite.execution.run_lock import RunLock
from suite.execution.slots import THREAD_VARIABLES
from suite.execution.warm import WarmLauncher

EVENT_BATCH_SECONDS = 0.25
"""Events are sent back in batches at most this often (a progress bar gets its latest count only)."""
SCRATCH_PREFIX = "tlbench-ray-"
SCRATCH_GRACE_SECONDS = 60.0
ACTOR_MAX_IDLE = 2
"""Idle warm workers one actor keeps (a study of torch and Keras runs: one of each)."""


@dataclass(frozen=True)
class NodeTask:
    """What travels with one Ray task; the run's files go by reference (``files``) and are fetched only to copy."""

    run_id: str
    directory: str
    probe: tuple[str, str] | None
    """(path, token) of the driver's token file; None: never work in place."""
    env: dict[str, str]
    """The run's variables, set on top of the node's environment."""
    unset: tuple[str, ...]
    cpus: float
    gpus: float
    time_limit: float | None
    files: list[Any]
    """One ObjectRef to the run's files (path -> bytes), nested in a list so that Ray does not fetch it unasked."""
    group: str = ""
    """What the worker imports (``backend/engine``): a warm worker runs only runs of its own group."""


WorkerStart = Callable[[NodeTask, Path, dict[str, str], EventHandler], WorkerExit]
"""Runs the worker of ``task`` in a directory with an environment, passing its events on; how it ended."""


def run_on_node(task: NodeTask) -> Iterator[tuple[Any, ...]]:
    """The Ray task of one run in a fresh worker process: a streaming generator of tagged tuples.

    In order: ``("events", [event, ...])`` the worker's progress events (the first says where the run is);
    ``("resume", files)`` a new resume state (copied runs only); ``("exit", returncode, timed_out, files)``
    how the worker ended and, for a copied run, every file of its directory (None when it worked in place).
    """
    yield from _run_here(task, _fresh_worker, "")


class NodeWorker:
    """A Ray actor: one slot on a node whose warm workers run the runs it is given, one after another.

    A warm worker whose run did not complete is replaced, as locally; the actor's warm workers die with it
    (``ray.kill`` or a lost node).
    """

    def __init__(self) -> None:
        self._warm = WarmLauncher(max_idle=ACTOR_MAX_IDLE)
        self._runs = 0

    def ready(self) -> int:
        """The actor's process id, once it is placed and started."""
        return os.getpid()

    def run(self, task: NodeTask) -> Iterator[tuple[Any, ...]]:
        """The run of ``task`` in a warm worker: the tagged tuples of :func:`run_on_node`."""
        self._runs += 1
        yield from _run_here(task, self._warm_worker, f", warm actor {os.getpid()} run {self._runs}")

    def _warm_worker(self, task: NodeTask, directory: Path, env: dict[str, str], on_event: EventHandler) -> WorkerExit:
        job = WorkerJob(task.run_id, task.run_id, directory, env, time_limit=task.time_limit, group=task.group)
        return self._warm.launch(job, on_event)


def _fresh_worker(task: NodeTask, directory: Path, env: dict[str, str], on_event: EventHandler) -> WorkerExit:
    return run_worker_process(directory, env, on_event, task.time_limit)


def _run_here(task: NodeTask, start: WorkerStart, how: str) -> Iterator[tuple[Any, ...]]:
    """The run of ``task`` on this node by ``start``, in place or in a copy; ``how`` ends the first message."""
    import ray

    shared = sees_probe(task.probe)
    scratch = None if shared else _Scratch()
    try:
        directory = Path(task.directory) if scratch is None else scratch.path / task.run_id
        if scratch is not None:
            run_transfer.write_files(directory, ray.get(task.files[0]))
        where = "shared filesystem" if shared else "run directory copied to the node"
        text = f"ray: node {ray.util.get_node_ip_address()}{how}, {where}"
        yield ("events", [{"event": "message", "text": text}])
        yield from _run_and_report(directory, task, start, copied=scratch is not None)
    finally:
        if scratch is not None:
            scratch.remove()


class _Scratch:
    """A temp directory for one copied run, claimed with a lock while its task lives.

    A task whose Ray worker was killed cannot remove its directory; the next copied run on the node does (its
    lock is free), after ``SCRATCH_GRACE_SECONDS``.
    """

    def __init__(self) -> None:
        sweep_scratch()
        self.path = Path(tempfile.mkdtemp(prefix=SCRATCH_PREFIX))
        self._claim = RunLock(self.path)
        self._claim.acquire()

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
        self._claim.release()


def sweep_scratch(grace: float = SCRATCH_GRACE_SECONDS) -> None:
    """Remove the temp directories of copied runs whose task is gone (unlocked, older than ``grace`` seconds)."""
    for path in Path(tempfile.gettempdir()).glob(f"{SCRATCH_PREFIX}*"):
        try:
            fresh = time.time() - path.stat().st_mtime < grace
        except OSError:
            continue
        if fresh or not path.is_dir() or path.is_symlink():
            continue
        claim = RunLock(path)
        if claim.acquire():
            shutil.rmtree(path, ignore_errors=True)
            claim.release()


def sees_probe(probe: tuple[str, str] | None) -> bool:
    """True when this node reads the driver's token at the driver's path: it shares the driver's filesystem."""
    if probe is None:
        return False
    try:
        return Path(probe[0]).read_text(encoding="utf-8") == probe[1]
    except OSError:
        return False


def node_environment(task: NodeTask, node: dict[str, str] | None = None) -> dict[str, str]:
    """The node's environment less ``task.unset``, the run's variables on top, thread pools sized to its CPUs.

    A run that asked Ray for no GPU sees none (Ray sets ``CUDA_VISIBLE_DEVICES`` only for tasks with GPUs).
    """
    base = dict(os.environ) if node is None else node
    env = {key: value for key, value in base.items() if key not in task.unset}
    env.update(task.env)
    env.update(dict.fromkeys(THREAD_VARIABLES, str(max(1, int(task.cpus)))))
    env["TF_NUM_INTEROP_THREADS"] = "1"
    if task.gpus == 0:
        env["CUDA_VISIBLE_DEVICES"] = ""
    return env


def _run_and_report(directory: Path, task: NodeTask, start: WorkerStart, copied: bool) -> Iterator[tuple[Any, ...]]:
    synced = _pointer(directory)  # the state the driver already has
    env = node_environment(task)
    for item in _stream_worker(lambda on_event: start(task, directory, env, on_event)):
        if isinstance(item, WorkerExit):
            files = run_transfer.read_tree(directory) if copied else None
            yield ("exit", item.returncode, item.timed_out, files)
            return
        yield ("events", item)
        snapshot = run_transfer.resume_snapshot(directory, synced) if copied else None
        if snapshot is not None:
            synced, files = snapshot
            yield ("resume", files)


def _pointer(directory: Path) -> bytes | None:
    try:
        return (directory / run_transfer.RESUME_POINTER).read_bytes()
    except OSError:
        return None


def _stream_worker(work_with: Callable[[EventHandler], WorkerExit]) -> Iterator[list[dict[str, Any]] | WorkerExit]:
    """Run ``work_with(on_event)`` in a thread; yield its events in batches, then its :class:`WorkerExit`."""
    events: queue.SimpleQueue[dict[str, Any] | None] = queue.SimpleQueue()
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            outcome["exit"] = work_with(events.put)
        except BaseException as exc:  # noqa: BLE001 - raised again in the task below
            outcome["error"] = exc
        finally:
            events.put(None)

    thread = threading.Thread(target=work, name="worker", daemon=True)
    thread.start()
    done = False
    while not done:
        batch, done = _next_batch(events)
        if batch:
            yield thin_events(batch)
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    yield outcome["exit"]


def _next_batch(events: queue.SimpleQueue[dict[str, Any] | None]) -> tuple[list[dict[str, Any]], bool]:
    """The events of the ``EVENT_BATCH_SECONDS`` after the next one; True once the worker has ended."""
    batch: list[dict[str, Any]] = []
    first = events.get()
    if first is None:
        return batch, True
    batch.append(first)
    deadline = time.monotonic() + EVENT_BATCH_SECONDS
    while (left := deadline - time.monotonic()) > 0:
        try:
            event = events.get(timeout=left)
        except queue.Empty:
            break
        if event is None:
            return batch, True
        batch.append(event)
    return batch, False


def thin_events(batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``batch`` without the ``batch_end`` events that another ``batch_end`` follows (only the latest count)."""
    kept = []
    for index, event in enumerate(batch):
        following = batch[index + 1] if index + 1 < len(batch) else {}
        if event.get("event") == following.get("event") == "batch_end":
            continue
        kept.append(event)
    return kept

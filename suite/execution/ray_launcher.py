"""Runs of a study on a Ray cluster: the launcher behind ``suite run SPEC --executor ray [--address ADDR]``.

The executor is the same for every launcher: it claims a run, writes its ``spec.toml`` and result header, and
calls :meth:`RayLauncher.launch`, which runs it in a warm Ray actor (:class:`suite.execution.ray_node.NodeWorker`,
from :class:`suite.execution.ray_pool.ActorPool`), or, with ``--fresh-workers``, as one Ray task in a fresh worker
process (:func:`suite.execution.ray_node.run_on_node`), and passes the worker's events on as they come. Where
the node does not share the driver's filesystem, the files the node sends back are written into the run
directory here (:mod:`suite.execution.run_transfer`), so results always land in the driver's output directory.
Ray is imported only when a launcher is made.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from suite import store
from suite.execution import run_transfer
from suite.execution.launch import EventHandler, WorkerExit, WorkerJob
from suite.execution.ray_node import NodeTask, run_on_node
from suite.execution.ray_pool import Actor, ActorPool
from suite.execution.slots import THREAD_VARIABLES

RAY_INSTALL_HINT = 'the ray executor needs Ray: pip install "tlbench[ray]"'
FORCE_COPY_ENV = "TLBENCH_RAY_FORCE_COPY"
"""Private: ``1`` makes every task copy its run directory as if no node shared the driver's filesystem (tests)."""
NODE_OWNED_ENV = frozenset({*THREAD_VARIABLES, "TF_NUM_INTEROP_THREADS", "CUDA_VISIBLE_DEVICES"}) | frozenset(
    {"HIP_VISIBLE_DEVICES", "ROCR_VISIBLE_DEVICES"}
)
"""Set on the node from the task's Ray resources, never taken from the driver's slot."""
CONNECT_TIMEOUT_SECONDS = 5.0
CLOSE_WAIT_SECONDS = 10.0
_PROBE_PREFIX = ".ray-probe-"


class RayUnavailableError(RuntimeError):
    """Ray is not installed or its cluster cannot be reached; ``str()`` is one line for the user."""


class RayLauncher:
    """Runs each :class:`WorkerJob` on a connected cluster: in a warm actor, or as one Ray task (``warm=False``).

    Neither is retried by Ray (``max_retries=0``, ``max_restarts=0``): a lost run is resumed by the next suite run.
    """

    def __init__(self, ray: Any, out_dir: Path, *, force_copy: bool = False, warm: bool = True) -> None:
        self._ray = ray
        self._remote = ray.remote(run_on_node)
        self._actors = ActorPool(ray) if warm else None
        self._probe: tuple[str, str] | None = None if force_copy else _write_probe(out_dir)
        self._running: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._closed = False

    def launch(self, job: WorkerJob, on_event: EventHandler) -> WorkerExit:
        """Run ``job`` on the cluster and wait for it; a lost Ray worker or node ends in ``WorkerExit.lost``."""
        directory = job.directory.resolve()
        errors = self._ray.exceptions
        sent = run_transfer.pack_run(directory)
        actor: Actor | None = None
        actor_alive = True
        try:
            submitted = self._submit(job, directory, sent)
            if submitted is None:
                return WorkerExit(-9, lost="ray task not started: the executor is stopping")
            stream, actor = submitted
            outcome = self._follow(stream, directory, on_event)
        except errors.RayTaskError as exc:
            return WorkerExit(1, lost=f"ray task failed: {_last_line(exc)}")
        except errors.TaskCancelledError:
            return WorkerExit(-9, lost="ray task cancelled: the executor is stopping")
        except errors.RayError as exc:
            if self._closed:
                return WorkerExit(-9, lost="ray actor killed: the executor is stopping")
            actor_alive = False
            return WorkerExit(-9, lost=f"ray worker died: {_first_line(exc)}")
        finally:
            with self._lock:
                self._running.pop(job.run_id, None)
            if actor is not None and self._actors is not None:
                self._actors.checkin(actor, alive=actor_alive)
        if outcome is None:
            return WorkerExit(-9, lost="ray task ended without reporting how the worker ended")
        returncode, timed_out, files = outcome
        if files is not None:
            run_transfer.write_back(directory, files, sent)
        return WorkerExit(returncode, timed_out=timed_out)

    def close(self) -> None:
        """Kill the actors, cancel the tasks (their workers die with them), remove the probe file, disconnect.

        Waits up to ``CLOSE_WAIT_SECONDS`` for the cancelled launches to return before Ray is shut down.
        """
        with self._lock:
            if self._closed:
                return
            self._closed = True
            running = list(self._running.values())
        if self._actors is not None:
            self._actors.close()
        for stream in running:
            try:
                self._ray.cancel(stream, force=True)
            except Exception:  # noqa: BLE001 - best effort: the task may have ended meanwhile
                pass
        deadline = time.monotonic() + CLOSE_WAIT_SECONDS
        while self._running and time.monotonic() < deadline:
            time.sleep(0.05)
        if self._probe is not None:
            Path(self._probe[0]).unlink(missing_ok=True)
        self._ray.shutdown()

    def actor_resources(self) -> list[tuple[float, float]]:
        """(CPUs, GPUs) of each warm actor the launcher holds now (tests)."""
        return [actor.resources for actor in self._actors.actors()] if self._actors is not None else []

    def _cluster_gpus(self) -> float:
        """GPUs in the whole cluster (what ``training.device = "auto"`` asks one of, when there are any)."""
        try:
            return float(self._ray.cluster_resources().get("GPU", 0.0))
        except Exception:  # noqa: BLE001 - an unanswerable cluster query means: ask for none
            return 0.0

    def _submit(self, job: WorkerJob, directory: Path, sent: dict[str, bytes]) -> tuple[Any, Actor | None] | None:
        """Start the run (None once the launcher is closed); the files go by reference, fetched only to copy.

        Returns the run's stream and the actor that runs it (None for a task).
        """
        env, unset = _run_environment(job.env, os.environ)
        cpus, gpus = float(job.resources.get("cpus") or 1.0), job.resources.get("gpus")
        gpus = float(gpus) if gpus is not None else (1.0 if self._cluster_gpus() > 0 else 0.0)
        files = self._ray.put(sent)
        task = NodeTask(
            job.run_id, str(directory), self._probe, env, unset, cpus, gpus, job.time_limit, [files], job.group
        )
        if self._actors is not None:
            return self._submit_to_actor(job, task)
        options = {
            "num_cpus": cpus,
            "num_gpus": gpus,
            "num_returns": "streaming",
            "max_retries": 0,  # a lost run is resumed by the next suite run, never silently rerun
            "name": f"tlbench {job.name}",
        }
        with self._lock:
            if self._closed:
                return None
            stream = self._remote.options(**options).remote(task)
            self._running[job.run_id] = stream
        return stream, None

    def _submit_to_actor(self, job: WorkerJob, task: NodeTask) -> tuple[Any, Actor] | None:
        assert self._actors is not None
        actor = self._actors.checkout((task.cpus, task.gpus))
        if actor is None:
            return None
        with self._lock:
            if self._closed:
                self._actors.checkin(actor, alive=False)
                return None
            stream = actor.handle.run.options(num_returns="streaming", name=f"tlbench {job.name}").remote(task)
            self._running[job.run_id] = stream
        return stream, actor

    def _follow(
        self, stream: Any, directory: Path, on_event: EventHandler
    ) -> tuple[int, bool, run_transfer.Files | None] | None:
        """Pass the task's events on and keep its resume states until it reports how the worker ended."""
        for ref in stream:
            kind, *payload = self._ray.get(ref)
            if kind == "events":
                for event in payload[0]:
                    on_event(event)
            elif kind == "resume":
                run_transfer.mirror_resume(directory, payload[0])
            elif kind == "exit":
                return payload[0], payload[1], payload[2]
        return None


def make_ray_launcher(address: str | None, out_dir: Path, *, warm: bool = True) -> RayLauncher:
    """Connect to the Ray cluster at ``address`` (None: Ray's default) and return a launcher for ``out_dir``.

    ``warm``: runs go to warm actors (else one Ray task and fresh worker process per run). ``None`` follows Ray:
    ``RAY_ADDRESS``, else a cluster started on this machine with ``ray start``, else a new local one. Raises
    :class:`RayUnavailableError` when Ray is missing or the cluster cannot be reached.
    """
    try:
        import ray
    except ImportError:
        raise RayUnavailableError(RAY_INSTALL_HINT) from None
    target = address or os.environ.get("RAY_ADDRESS") or None
    if target not in (None, "auto", "local"):
        _check_reachable(target)
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    _connect(ray, address, target)
    out_dir.mkdir(parents=True, exist_ok=True)
    return RayLauncher(ray, out_dir, force_copy=os.environ.get(FORCE_COPY_ENV) == "1", warm=warm)


def _connect(ray: Any, address: str | None, target: str | None) -> None:
    """``ray.init(address)`` without Ray's log lines; a failure becomes one :class:`RayUnavailableError` line.

    Connecting to an address (``target``: ``address`` or ``RAY_ADDRESS``), the native client's retry warnings
    (one a second) go to a file, not the terminal, and name the cause when the cluster wants a token. A new
    local cluster starts without a dashboard.
    """
    local = target in (None, "local")
    options = {"include_dashboard": False} if local else {}
    with tempfile.TemporaryFile() as native_log:
        try:
            with contextlib.nullcontext() if local else _stderr_into(native_log):
                ray.init(
                    address=address,
                    log_to_driver=False,
                    logging_level=logging.ERROR,  # not Ray's notes on tokens and usage stats
                    ignore_reinit_error=True,
                    **options,
                )
        except Exception as exc:  # noqa: BLE001 - whatever Ray raises, the user gets one line
            native_log.seek(0)
            cause = _connect_failure(native_log.read().decode(errors="replace"), exc)
            where = f" at {target}" if target else ""
            raise RayUnavailableError(f"cannot connect to the Ray cluster{where}: {cause}") from None


def _connect_failure(native_log: str, exc: BaseException) -> str:
    if "Unauthenticated" in native_log or "InvalidAuthToken" in native_log:
        return (
            "it requires token authentication: set RAY_AUTH_MODE=token here "
            "(the token comes from RAY_AUTH_TOKEN or ~/.ray/auth_token)"
        )
    return _first_line(exc)


@contextlib.contextmanager
def _stderr_into(sink: IO[bytes]) -> Iterator[None]:
    """Point file descriptor 2 (where Ray's native code logs) at ``sink`` for the duration."""
    sys.stderr.flush()
    saved = os.dup(2)
    os.dup2(sink.fileno(), 2)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def _check_reachable(address: str) -> None:
    """One clear line instead of Ray's minutes of retries when nothing listens at ``address``."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise RayUnavailableError(f"--address: expected HOST:PORT (the Ray head's GCS port), got {address!r}")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_TIMEOUT_SECONDS).close()
    except OSError as exc:
        raise RayUnavailableError(f"cannot reach the Ray cluster at {address}: {exc.strerror or exc}") from None


def _write_probe(out_dir: Path) -> tuple[str, str]:
    """A token file in ``out_dir``: a node that reads the same token at the same path shares the filesystem."""
    token = secrets.token_hex(16)
    path = out_dir.resolve() / f"{_PROBE_PREFIX}{token[:12]}"
    store.write_text(path, token)
    return str(path), token


def _run_environment(env: Mapping[str, str], driver: Mapping[str, str]) -> tuple[dict[str, str], tuple[str, ...]]:
    """What the run changes on top of the node's own environment: set (changed vs. the driver's) and unset.

    The driver's other variables (PATH, HOME, caches) are the driver machine's; the node keeps its own. The
    thread counts and visible GPUs come from the task's Ray resources on the node (``NODE_OWNED_ENV``).
    """
    changed = {key: value for key, value in env.items() if driver.get(key) != value and key not in NODE_OWNED_ENV}
    unset = tuple(sorted(key for key in driver if key not in env and key not in NODE_OWNED_ENV))
    return changed, unset


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


def _last_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[-1] if lines else type(exc).__name__

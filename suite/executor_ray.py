"""Each run of a study as one Ray task: the launcher behind ``suite run SPEC --executor ray [--address ADDR]``.

The executor is unchanged: it claims a run, writes its ``spec.toml`` and result header, and calls
:meth:`RayLauncher.launch`, which submits one Ray task per run. The task starts the usual worker process
(:func:`suite.launch.run_worker_process`, so the lifeline kills the worker when the Ray worker process dies) and
streams the worker's progress events back. When the node sees the driver's output directory (a shared
filesystem, checked with a random token file), the worker works in place; otherwise the task rebuilds the run
directory in a temp directory from the files sent with it and returns every file it holds afterwards, which
the driver writes into the run directory atomically. Ray is imported only here, and only when asked for.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import secrets
import shutil
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from suite import store
from suite.launch import LOG_FILE, EventHandler, WorkerExit, WorkerJob, run_worker_process
from suite.slots import THREAD_VARIABLES

RAY_INSTALL_HINT = 'the ray executor needs Ray: pip install "tlbench[ray]"'
FORCE_COPY_ENV = "TLBENCH_RAY_FORCE_COPY"
"""Private: ``1`` makes every task copy its run directory as if no node shared the driver's filesystem (tests)."""
RESUME_DIR = Path("checkpoints") / "resume"
"""The per-epoch resume state (suite.training.resume), sent with a task so a run resumes on any node."""
NODE_OWNED_ENV = frozenset({*THREAD_VARIABLES, "TF_NUM_INTEROP_THREADS", "CUDA_VISIBLE_DEVICES"}) | frozenset(
    {"HIP_VISIBLE_DEVICES", "ROCR_VISIBLE_DEVICES"}
)
"""Set on the node from the task's Ray resources, never taken from the driver's slot."""
EVENT_BATCH_SECONDS = 0.25
CONNECT_TIMEOUT_SECONDS = 5.0
CLOSE_WAIT_SECONDS = 10.0
_PROBE_PREFIX = ".ray-probe-"


class RayUnavailableError(RuntimeError):
    """Ray is not installed or its cluster cannot be reached; ``str()`` is one line for the user."""


@dataclass(frozen=True)
class _Task:
    """What travels with one Ray task (besides the run's files, sent by reference in ``files``)."""

    run_id: str
    directory: str
    probe: tuple[str, str] | None
    env: dict[str, str]
    unset: tuple[str, ...]
    cpus: float
    time_limit: float | None
    files: list[Any]
    """One ObjectRef to the run's files (path -> bytes): nested in a list, so Ray does not fetch it unasked."""


class RayLauncher:
    """Runs each :class:`~suite.launch.WorkerJob` as one Ray task (``max_retries=0``) on a connected cluster."""

    def __init__(self, ray: Any, out_dir: Path, *, force_copy: bool = False) -> None:
        self._ray = ray
        self._remote = ray.remote(_run_on_node)
        self._probe: tuple[str, str] | None = None if force_copy else _write_probe(out_dir)
        self._running: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._closed = False

    def launch(self, job: WorkerJob, on_event: EventHandler) -> WorkerExit:
        """Submit ``job`` as a Ray task and wait for it; a lost Ray worker or node ends in ``WorkerExit.lost``."""
        directory = job.directory.resolve()
        errors = self._ray.exceptions
        sent = _pack(directory)
        try:
            stream = self._submit(job, directory, sent)
            if stream is None:
                return WorkerExit(-9, lost="ray task not started: the executor is stopping")
            outcome = self._follow(stream, on_event)
        except errors.RayTaskError as exc:
            return WorkerExit(1, lost=f"ray task failed: {_last_line(exc)}")
        except errors.TaskCancelledError:
            return WorkerExit(-9, lost="ray task cancelled: the executor is stopping")
        except errors.RayError as exc:
            return WorkerExit(-9, lost=f"ray worker died: {_first_line(exc)}")
        finally:
            with self._lock:
                self._running.pop(job.run_id, None)
        if outcome is None:
            return WorkerExit(-9, lost="ray task ended without reporting how the worker ended")
        returncode, timed_out, files = outcome
        if files is not None:
            _unpack_returned(directory, files, sent)
        return WorkerExit(returncode, timed_out=timed_out)

    def close(self) -> None:
        """Cancel the tasks still running (their workers die with them), remove the probe file, disconnect.

        Waits up to ``CLOSE_WAIT_SECONDS`` for the cancelled launches to return before Ray is shut down.
        """
        with self._lock:
            if self._closed:
                return
            self._closed = True
            running = list(self._running.values())
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

    def _submit(self, job: WorkerJob, directory: Path, sent: dict[str, bytes]) -> Any:
        """Start the task (None once the launcher is closed); the files go by reference, fetched only to copy."""
        env, unset = _run_environment(job.env, os.environ)
        cpus = float(job.resources.get("cpus", 1.0))
        files = self._ray.put(sent)
        task = _Task(job.run_id, str(directory), self._probe, env, unset, cpus, job.time_limit, [files])
        options = {
            "num_cpus": cpus,
            "num_gpus": float(job.resources.get("gpus", 0.0)),
            "num_returns": "streaming",
            "max_retries": 0,  # a lost run is resumed by the next suite run, never silently rerun
            "name": f"tlbench {job.name}",
        }
        with self._lock:
            if self._closed:
                return None
            stream = self._remote.options(**options).remote(task)
            self._running[job.run_id] = stream
        return stream

    def _follow(self, stream: Any, on_event: EventHandler) -> tuple[int, bool, dict[str, bytes] | None] | None:
        """Pass the task's events on until it reports how the worker ended."""
        for ref in stream:
            kind, *payload = self._ray.get(ref)
            if kind == "events":
                for event in payload[0]:
                    on_event(event)
            elif kind == "exit":
                return payload[0], payload[1], payload[2]
        return None


def make_ray_launcher(address: str | None, out_dir: Path) -> RayLauncher:
    """Connect to the Ray cluster at ``address`` (None: Ray's default) and return a launcher for ``out_dir``.

    ``None`` follows Ray: ``RAY_ADDRESS``, else a cluster started on this machine with ``ray start``, else a new
    local one. Raises :class:`RayUnavailableError` when Ray is missing or the cluster cannot be reached.
    """
    try:
        import ray
    except ImportError:
        raise RayUnavailableError(RAY_INSTALL_HINT) from None
    if address not in (None, "auto", "local"):
        _check_reachable(address)
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    _connect(ray, address)
    out_dir.mkdir(parents=True, exist_ok=True)
    return RayLauncher(ray, out_dir, force_copy=os.environ.get(FORCE_COPY_ENV) == "1")


def _connect(ray: Any, address: str | None) -> None:
    """``ray.init`` without Ray's log lines; a failure becomes one :class:`RayUnavailableError` line.

    Connecting to an address, the native client's retry warnings (one a second) go to a file, not the
    terminal, and name the cause when the cluster wants a token. A new local cluster starts without a dashboard.
    """
    local = address in (None, "local")
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
            where = f" at {address}" if address else ""
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


def _pack(directory: Path) -> dict[str, bytes]:
    """The files a node needs to rebuild the run directory: spec, header, log so far, and the resume state."""
    files = {name: (directory / name).read_bytes() for name in (store.SPEC_FILE, store.RESULT_FILE)}
    if (directory / LOG_FILE).is_file():
        files[LOG_FILE] = (directory / LOG_FILE).read_bytes()
    resume = directory / RESUME_DIR
    if resume.is_dir():
        files.update(_read_tree(directory, resume))
    return files


def _read_tree(root: Path, start: Path) -> dict[str, bytes]:
    """Every regular file under ``start`` but dot files (locks, unfinished atomic writes), keyed from ``root``."""
    files = {}
    for path in sorted(start.rglob("*")):
        relative = path.relative_to(root)
        if path.is_file() and not path.is_symlink() and not any(part.startswith(".") for part in relative.parts):
            files[relative.as_posix()] = path.read_bytes()
    return files


def _unpack_returned(directory: Path, files: dict[str, bytes], sent: dict[str, bytes]) -> None:
    """Write the node's files into the driver's run directory and drop the sent files the worker removed.

    Deeper files go first and ``result.json`` last, so a pointer never names a file not yet written and a
    reader that sees the final status sees every output.
    """
    order = sorted(files, key=lambda name: (name == store.RESULT_FILE, -name.count("/"), name))
    for name in order:
        store.write_atomic(directory / _safe_relative(name), files[name])
    for name in sorted(set(sent) - set(files)):
        (directory / _safe_relative(name)).unlink(missing_ok=True)
    _prune_empty(directory / RESUME_DIR)


def _safe_relative(name: str) -> Path:
    path = Path(name)
    if path.is_absolute() or ".." in path.parts:
        raise ValueError(f"a Ray task returned a file outside its run directory: {name!r}")
    return path


def _prune_empty(start: Path) -> None:
    if not start.is_dir():
        return
    for path in sorted(start.rglob("*"), key=lambda item: -len(item.parts)):
        if path.is_dir() and not any(path.iterdir()):
            path.rmdir()


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


def _last_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[-1] if lines else type(exc).__name__


# --- on the node ------------------------------------------------------------------------------------------


def _run_on_node(task: _Task) -> Iterator[tuple[Any, ...]]:
    """The Ray task: run the worker (in place or in a copy); yield ``("events", [...])`` batches, then the exit.

    The exit item is ``("exit", returncode, timed_out, files)``; ``files`` (path -> bytes) is None when the
    worker worked in the driver's own directory.
    """
    import ray

    shared = _sees_probe(task.probe)
    scratch = None if shared else Path(tempfile.mkdtemp(prefix="tlbench-ray-"))
    try:
        directory = Path(task.directory) if scratch is None else scratch / task.run_id
        if scratch is not None:
            _write_tree(directory, ray.get(task.files[0]))
        where = "shared filesystem" if shared else "run directory copied to the node"
        yield ("events", [{"event": "message", "text": f"ray: node {ray.util.get_node_ip_address()}, {where}"}])
        outcome = None
        for item in _stream_worker(directory, _node_environment(task), task.time_limit):
            if isinstance(item, WorkerExit):
                outcome = item
            else:
                yield ("events", item)
        assert outcome is not None
        files = None if scratch is None else _read_tree(directory, directory)
        yield ("exit", outcome.returncode, outcome.timed_out, files)
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


def _sees_probe(probe: tuple[str, str] | None) -> bool:
    if probe is None:
        return False
    try:
        return Path(probe[0]).read_text(encoding="utf-8") == probe[1]
    except OSError:
        return False


def _write_tree(directory: Path, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        store.write_atomic(directory / _safe_relative(name), data)


def _node_environment(task: _Task) -> dict[str, str]:
    """The node's environment, the run's variables on top, thread pools sized to the task's CPUs."""
    env = {key: value for key, value in os.environ.items() if key not in task.unset}
    env.update(task.env)
    threads = str(max(1, int(task.cpus)))
    env.update(dict.fromkeys(THREAD_VARIABLES, threads))
    env["TF_NUM_INTEROP_THREADS"] = "1"
    return env


def _stream_worker(
    directory: Path, env: dict[str, str], time_limit: float | None
) -> Iterator[list[dict[str, Any]] | WorkerExit]:
    """Run the worker in a thread; yield its events in batches (every ``EVENT_BATCH_SECONDS``), then its exit."""
    events: queue.SimpleQueue[dict[str, Any] | None] = queue.SimpleQueue()
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            outcome["exit"] = run_worker_process(directory, env, events.put, time_limit)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the task below
            outcome["error"] = exc
        finally:
            events.put(None)

    thread = threading.Thread(target=work, name="worker", daemon=True)
    thread.start()
    done = False
    while not done:
        batch, done = _next_batch(events)
        if batch:
            yield _thin(batch)
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    yield outcome["exit"]


def _next_batch(events: queue.SimpleQueue[dict[str, Any] | None]) -> tuple[list[dict[str, Any]], bool]:
    """The events of the next ``EVENT_BATCH_SECONDS`` after the first one; True once the worker has ended."""
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


def _thin(batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Drop every ``batch_end`` followed by another one: the progress bar needs only the latest count."""
    kept = []
    for index, event in enumerate(batch):
        following = batch[index + 1] if index + 1 < len(batch) else None
        if event.get("event") == "batch_end" and following is not None and following.get("event") == "batch_end":
            continue
        kept.append(event)
    return kept

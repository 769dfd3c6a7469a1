"""The Ray executor on a real local Ray cluster: ``suite run --executor ray`` (warm actors, or a Ray task per run
with ``--fresh-workers``) gives the runs, statuses, metrics and predictions of ``--executor local``; an actor runs
run after run in one warm worker and replaces a worker whose run failed; runs of other resources do not wait on idle
actors; files come back without a shared filesystem; a killed Ray worker is a lost run that takes its worker process
with it, and a run whose actor or warm worker was killed resumes from the state it sent back; a killed or stopped
driver leaves no worker behind; Ray missing or out of reach is one line.

The cluster is started once for the module with ``ray start --head`` (2 CPUs, no dashboard, a free port) and
always stopped with ``ray stop --force``; every wait is bounded.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import psutil
import pytest

from suite import store
from suite.execution import ray_launcher as executor_ray
from suite.execution import run_transfer
from suite.execution.executor import result_header, run_resources, worker_environment, worker_group
from suite.execution.launch import LOG_FILE, LocalLauncher, WorkerExit, WorkerJob
from suite.execution.ray_launcher import FORCE_COPY_ENV, RayLauncher, RayUnavailableError, make_ray_launcher
from suite.execution.ray_node import SCRATCH_PREFIX, NodeTask, node_environment, sweep_scratch, thin_events
from suite.execution.run_lock import RunLock
from suite.execution.serve import WARM_LINE
from suite.execution.slots import THREAD_VARIABLES
from suite.spec.loader import load_study
from suite.spec.models import ExperimentSpec
from suite.spec.serialize import run_id, spec_to_toml
from suite.store import statuses

START_TIMEOUT = 120
STOP_TIMEOUT = 60
RUN_TIMEOUT = 300
CLUSTER_ENV = {"RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "disabled"}
"""Whatever ~/.ray holds, the test cluster and its drivers use no token (a token file turns it on for ray start)."""

STUDY = """
[study]
name = "rayplugin"

[defaults]
backend = "centroid"
dataset = {{ source = "digits", normalization = "unit" }}
optimizer = {{ name = "sgd", lr = 0.5 }}
training = {{ epochs = {epochs}, deterministic = true }}

[[experiments]]
name = "a"
model = {{ name = "{model}" }}

[[experiments]]
name = "b"
model = {{ name = "{model}" }}
seed = 1
"""

FRAMEWORK_STUDY = """
[study]
name = "rayframeworks"

[defaults]
dataset = { source = "digits", normalization = "unit", subset = { train = 256, val = 64, test = 128 } }
optimizer = { name = "adam", lr = 1e-3 }
training = { epochs = 2, batch_size = 32, device = "cpu", precision = "fp32", deterministic = true }

[matrix]
backend = ["torch", "keras"]

[[experiments]]
name = "mlp"
model = { name = "mlp" }

[[experiments]]
name = "simple_cnn"
model = { name = "simple_cnn" }
"""


RESUME_STUDY = """
[study]
name = "rayresume"

[defaults]
backend = "torch"
dataset = { source = "digits", normalization = "unit" }
optimizer = { name = "adam", lr = 1e-3 }
training = { epochs = 40, batch_size = 16, device = "cpu", precision = "fp32", deterministic = true }

[[experiments]]
name = "mlp"
model = { name = "mlp", dropout = 0.2 }
"""


@pytest.fixture(scope="module")
def ray_address(plugin_site: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A local Ray head on a free port (its workers see the ``centroid`` test backend); stopped afterwards."""
    pytest.importorskip("ray", reason='ray is not installed (pip install "tlbench[ray]")')
    ray_bin = Path(sys.executable).parent / "ray"
    assert ray_bin.exists(), f"ray is importable but its command is not beside {sys.executable}"
    port = _free_port()
    env = {**os.environ, **CLUSTER_ENV, "PYTHONPATH": _with_path(plugin_site)}
    start = [
        str(ray_bin), "start", "--head", "--node-ip-address=127.0.0.1", f"--port={port}", "--num-cpus=2",
        "--include-dashboard=false", "--disable-usage-stats", f"--temp-dir={tmp_path_factory.mktemp('ray')}",
    ]  # fmt: skip
    try:
        started = subprocess.run(start, env=env, capture_output=True, text=True, timeout=START_TIMEOUT, check=False)
        assert started.returncode == 0, f"ray start failed:\n{started.stdout}\n{started.stderr}"
        yield f"127.0.0.1:{port}"
    finally:
        subprocess.run([str(ray_bin), "stop", "--force"], capture_output=True, timeout=STOP_TIMEOUT, check=False)


@pytest.fixture
def address(ray_address: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The test cluster's address, with this process set up as its drivers are."""
    for name, value in CLUSTER_ENV.items():
        monkeypatch.setenv(name, value)
    return ray_address


@pytest.fixture
def launcher(address: str, tmp_path: Path) -> Iterator[RayLauncher]:
    """A connected launcher for ``tmp_path/out``; closed (Ray disconnected) afterwards."""
    ray_launcher = make_ray_launcher(address, tmp_path / "out")
    try:
        yield ray_launcher
    finally:
        ray_launcher.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _with_path(site: Path) -> str:
    return os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))


def _study(tmp_path: Path, model: str = "mlp2", epochs: int = 3) -> list[ExperimentSpec]:
    path = tmp_path / "rayplugin.toml"
    path.write_text(STUDY.format(model=model, epochs=epochs))
    return load_study(path).runs


def _job(spec: ExperimentSpec, out: Path, cpus: float | None = None) -> WorkerJob:
    """What the executor does before launching: the run directory with spec.toml and the header, the job."""
    rid = run_id(spec)
    directory = store.run_dir(out, rid)
    directory.mkdir(parents=True, exist_ok=True)
    store.write_text(directory / store.SPEC_FILE, spec_to_toml(spec))
    store.write_json(directory / store.RESULT_FILE, result_header(spec, rid, "rayplugin"))
    env = {**worker_environment(spec), **dict.fromkeys(THREAD_VARIABLES, "1")}  # a Ray task's 1 CPU, here too
    resources = run_resources(spec) if cpus is None else {**run_resources(spec), "cpus": cpus}
    return WorkerJob(rid, spec.name, directory, env, resources, spec.training.time_limit, group=worker_group(spec))


def _completed_metrics(directory: Path) -> dict[str, Any]:
    result = store.read_result(directory)
    assert result is not None and result["status"] == statuses.COMPLETED, result
    assert result["metrics"]["test_accuracy"] > 0.5
    return result["metrics"]


@pytest.mark.slow
def test_without_a_shared_filesystem_the_files_come_back(
    plugin_path: Path, address: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(FORCE_COPY_ENV, "1")
    out = tmp_path / "out"
    ray_launcher = make_ray_launcher(address, out)
    try:
        [spec] = _study(tmp_path)[:1]
        job = _job(spec, out)
        store.write_text(job.directory / LOG_FILE, "an earlier attempt\n")
        events: list[dict] = []
        assert ray_launcher.launch(job, events.append) == WorkerExit(0)
    finally:
        ray_launcher.close()
    assert events[0]["text"].startswith("ray: node ") and events[0]["text"].endswith("copied to the node")
    assert [event["epoch"] for event in events if event["event"] == "epoch_end"] == [0, 1, 2]  # streamed back
    metrics = _completed_metrics(job.directory)
    assert not list(tmp_path.glob("tlbench-ray-*")) and not list(out.glob(".ray-probe-*"))
    for name in (store.SPEC_FILE, store.HISTORY_FILE, store.PREDICTIONS_FILE, "plan.json", LOG_FILE):
        assert (job.directory / name).stat().st_size > 0, name
    assert (job.directory / LOG_FILE).read_text().startswith("an earlier attempt\n")  # the log was sent and kept
    assert store.outputs_problem(job.directory) is None and metrics["test_accuracy"] > 0.5


@pytest.mark.slow
def test_an_actor_runs_run_after_run_in_one_warm_worker_and_replaces_one_whose_run_failed(
    plugin_path: Path, launcher: RayLauncher, tmp_path: Path
) -> None:
    specs = _study(tmp_path)
    failing = specs[0].model_copy(update={"name": "c", "model": specs[0].model.model_copy(update={"name": "raise"})})
    jobs = [_job(spec, tmp_path / "out") for spec in (*specs, failing, specs[0].model_copy(update={"seed": 7}))]
    events: list[list[dict]] = [[] for _ in jobs]
    exits = [launcher.launch(job, events[index].append) for index, job in enumerate(jobs)]
    assert [exit_info.returncode for exit_info in exits[:2] + exits[3:]] == [0, 0, 0] and exits[2].returncode != 0
    assert len({_actor_of(run_events) for run_events in events}) == 1  # one actor ran all four
    pids = [_warm_pid(job.directory) for job in jobs]
    assert pids[0] == pids[1] == pids[2] != pids[3]  # one warm worker, replaced after the failed run
    assert _completed_metrics(jobs[1].directory) and store.read_result(jobs[2].directory)["status"] == "failed"


@pytest.mark.slow
def test_runs_of_other_resources_do_not_wait_on_idle_actors(
    plugin_path: Path, launcher: RayLauncher, tmp_path: Path
) -> None:
    """On 2 CPUs: three 1-CPU runs at once (the third takes the first actor that is free, not a third one), then a
    2-CPU run, which gets its actor only once the idle 1-CPU actors are killed."""
    specs = _study(tmp_path, epochs=2)
    small = [_job(specs[index % 2].model_copy(update={"seed": 10 + index}), tmp_path / "out") for index in range(3)]
    events: list[list[dict]] = [[] for _ in small]
    exits: dict[int, WorkerExit] = {}
    threads = [
        threading.Thread(target=lambda i=i: exits.__setitem__(i, launcher.launch(small[i], events[i].append)))
        for i in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=RUN_TIMEOUT)
    assert exits == {0: WorkerExit(0), 1: WorkerExit(0), 2: WorkerExit(0)}
    assert len({_actor_of(run_events) for run_events in events}) == 2
    big = _job(specs[0].model_copy(update={"seed": 20}), tmp_path / "out", cpus=2.0)
    done: list[WorkerExit] = []
    thread = threading.Thread(target=lambda: done.append(launcher.launch(big, lambda e: None)), daemon=True)
    thread.start()
    thread.join(timeout=RUN_TIMEOUT)
    assert done == [WorkerExit(0)], "the 2-CPU run waited on the idle 1-CPU actors"
    assert launcher.actor_resources() == [(2.0, 0.0)]


@pytest.mark.slow
def test_a_killed_ray_worker_is_a_lost_run_and_its_worker_dies(
    plugin_path: Path, launcher: RayLauncher, tmp_path: Path
) -> None:
    [spec] = _study(tmp_path, model="sleepy", epochs=200)[:1]
    job = _job(spec, tmp_path / "out")
    exits: list[WorkerExit] = []
    events: list[dict] = []
    thread = threading.Thread(target=lambda: exits.append(launcher.launch(job, events.append)), daemon=True)
    thread.start()
    worker = _wait_for_worker(lambda: [job.directory])
    ray_worker = worker.parent()
    assert ray_worker is not None and ray_worker.pid != os.getpid()
    ray_worker.kill()
    thread.join(timeout=60)
    assert not thread.is_alive(), "launch did not return after its Ray worker was killed"
    [lost] = exits
    assert lost.returncode < 0 and lost.lost and lost.lost.startswith("ray worker died")
    _, alive = psutil.wait_procs([worker], timeout=10)
    assert not alive, "the worker process outlived its Ray worker"
    assert events[0]["text"].endswith("shared filesystem")  # the node saw the driver's token: it worked in place


@pytest.mark.slow
@pytest.mark.parametrize("killed", ["actor", "warm worker"])
def test_a_run_lost_on_a_node_resumes_from_the_state_it_sent_back(
    address: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, killed: str
) -> None:
    """Without a shared filesystem each resume state comes back as soon as it is written: a lost node costs at most
    the epoch in progress, and the resumed run ends with the metrics of a run never interrupted. Killing the actor
    loses the run (the actor leaves the pool); kill -9 of its warm worker ends the run as killed, the actor lives on
    and runs the resumed run in a new warm worker."""
    pytest.importorskip("torch", reason="the resume state needs a backend with save_state (torch)")
    monkeypatch.setenv(FORCE_COPY_ENV, "1")
    path = tmp_path / "resume.toml"
    path.write_text(RESUME_STUDY)
    [spec] = load_study(path).runs
    job = _job(spec, tmp_path / "out")
    ray_launcher = make_ray_launcher(address, tmp_path / "out")
    try:
        exits: list[WorkerExit] = []
        events: list[dict] = []
        thread = threading.Thread(target=lambda: exits.append(ray_launcher.launch(job, events.append)), daemon=True)
        thread.start()
        pointer = job.directory / run_transfer.RESUME_POINTER
        _wait_for(pointer.exists, f"no resume state came back to {pointer}", timeout=RUN_TIMEOUT)
        worker = _wait_for_worker(_copies_of(job.run_id))
        (worker.parent() if killed == "actor" else worker).kill()
        thread.join(timeout=60)
        [lost] = exits
        assert lost.lost if killed == "actor" else lost == WorkerExit(-signal.SIGKILL), lost
        saved = json.loads(pointer.read_text())
        assert (job.directory / run_transfer.RESUME_DIR / saved["directory"]).is_dir()
        again: list[dict] = []
        assert ray_launcher.launch(job, again.append) == WorkerExit(0)
        assert (_actor_of(again) == _actor_of(events)) == (killed == "warm worker")
        assert _warm_pid(job.directory) != worker.pid
    finally:
        ray_launcher.close()
    plain = _job(spec, tmp_path / "plain")
    assert LocalLauncher().launch(plain, lambda e: None) == WorkerExit(0)
    result = store.read_result(job.directory)
    assert result["status"] == statuses.COMPLETED and result["resumed_from_epoch"] >= saved["epoch"]
    assert result["metrics"] == _completed_metrics(plain.directory)
    assert not (job.directory / run_transfer.RESUME_DIR).exists()  # a completed run clears its resume state


def _wait_for(condition: Callable[[], bool], failure: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, failure
        time.sleep(0.1)


def _wait_for_worker(where: Callable[[], list[Path]], timeout: float = 60) -> psutil.Process:
    """The worker process running the run in ``where()`` (see :func:`_wait_for_workers`)."""
    return _wait_for_workers(where, count=1, timeout=timeout)[0]


def _wait_for_workers(where: Callable[[], list[Path]], count: int, timeout: float = 60) -> list[psutil.Process]:
    """``count`` distinct worker processes running the runs in the directories ``where()`` lists: a warm worker by
    the pid its run's worker.log names, a fresh one by the run directory on its command line."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        directories = {str(directory.resolve()) for directory in where()}
        found = {pid: psutil.Process(pid) for pid in map(_warm_pid, directories) if pid and psutil.pid_exists(pid)}
        for process in psutil.process_iter(["cmdline"]):
            cmdline = process.info["cmdline"] or []
            if "suite.execution.worker" in cmdline and cmdline[-1] in directories:
                found[process.pid] = process
        if len(found) >= count:
            return list(found.values())
        time.sleep(0.2)
    raise AssertionError(f"fewer than {count} workers started for the runs in {sorted(where())}")


def _warm_pid(directory: str | Path) -> int | None:
    """The pid of the warm worker that last took the run in ``directory`` (None: none did)."""
    try:
        lines = (Path(directory) / LOG_FILE).read_text().splitlines()
    except OSError:
        return None
    pids = [int(line.split()[2].rstrip(",")) for line in lines if line.startswith(WARM_LINE)]
    return pids[-1] if pids else None


def _copies_of(run: str) -> Callable[[], list[Path]]:
    """The node's copies of run ``run`` (a run directory copied to the node is ``TMP/tlbench-ray-*/RUN_ID``)."""
    return lambda: list(Path(tempfile.gettempdir()).glob(f"{SCRATCH_PREFIX}*/{run}"))


def _actor_of(events: list[dict]) -> int:
    """The pid of the actor that ran a run, from the run's first event (``ray: node IP, warm actor PID run N, ...``)."""
    text = events[0]["text"]
    assert ", warm actor " in text, text
    return int(text.split(", warm actor ")[1].split()[0])


@pytest.mark.slow
def test_suite_run_with_ray_matches_local(address: str, plugin_site: Path, tmp_path: Path) -> None:
    """Same run ids, statuses, metrics and predictions from warm actors, Ray tasks (``--fresh-workers``) and the
    local executor; the Ray runs copy their directories (as on nodes without shared storage)."""
    path = tmp_path / "rayplugin.toml"
    path.write_text(STUDY.format(model="mlp2", epochs=3))
    env = {**os.environ, "PYTHONPATH": _with_path(plugin_site), FORCE_COPY_ENV: "1"}
    ray = ("--executor", "ray", "--address", address)
    warm_out = _suite_run(path, tmp_path / "ray", env, *ray, "--jobs", "2")
    fresh_out = _suite_run(path, tmp_path / "fresh", env, *ray, "--fresh-workers")
    local_out = _suite_run(path, tmp_path / "local", env, "--executor", "local", "--jobs", "2")
    assert _outcomes(warm_out) == _outcomes(fresh_out) == _outcomes(local_out)
    assert {status for status, *_ in _outcomes(warm_out).values()} == {statuses.COMPLETED}
    assert not list(warm_out.glob(".ray-probe-*"))
    logs = [(store.run_dir(out, rid) / LOG_FILE).read_text() for out in (warm_out, fresh_out) for rid in _ids(out)]
    assert [WARM_LINE in log for log in logs] == [True, True, False, False]


@pytest.mark.slow
@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_workers_never_outlive_a_ray_driver(
    address: str, plugin_site: Path, tmp_path: Path, how: signal.Signals
) -> None:
    """SIGTERM: the driver cancels its tasks, the runs end interrupted; SIGKILL: Ray ends the dead driver's tasks."""
    path = tmp_path / "rayplugin.toml"
    path.write_text(STUDY.format(model="sleepy", epochs=200))
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": _with_path(plugin_site)}
    command = [sys.executable, "-m", "suite", "run", str(path), "--out", str(out), "--quiet", "--no-check"]
    driver = subprocess.Popen([*command, "--executor", "ray", "--address", address], env=env, stderr=subprocess.PIPE)
    try:
        workers = _wait_for_workers(lambda: list((out / store.RUNS_DIR).glob("*")), count=2)
        time.sleep(1.0)
        driver.send_signal(how)
        driver.wait(timeout=60)
        _, alive = psutil.wait_procs(workers, timeout=15)
        assert not alive, "a worker outlived its Ray driver"
    finally:
        if driver.poll() is None:
            driver.kill()
    results = [store.read_result(directory) for directory in (out / store.RUNS_DIR).iterdir()]
    expected = statuses.INTERRUPTED if how == signal.SIGTERM else statuses.RUNNING  # running + no lock: interrupted
    assert [result["status"] for result in results] == [expected, expected]
    assert driver.returncode == (130 if how == signal.SIGTERM else -signal.SIGKILL)


def _suite_run(spec: Path, out: Path, env: dict[str, str], *options: str) -> Path:
    command = [sys.executable, "-m", "suite", "run", str(spec), "--out", str(out), "--quiet", "--no-check", *options]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False)
    assert done.returncode == 0, f"{' '.join(command)}\n{done.stdout}\n{done.stderr}"
    return out


def _arrays(path: Path) -> dict[str, bytes]:
    with np.load(path, allow_pickle=False) as arrays:
        return {name: arrays[name].tobytes() for name in arrays.files}


def _ids(out: Path) -> list[str]:
    return json.loads((out / store.STUDY_FILE).read_text())["run_ids"]


def _outcomes(out: Path) -> dict[str, tuple[str, dict[str, Any], dict[str, bytes]]]:
    """Run id -> (status, metrics, the bytes of every predictions array) of every run the study file lists."""
    results = {rid: store.read_result(store.run_dir(out, rid)) or {} for rid in _ids(out)}
    predictions = {rid: _arrays(store.run_dir(out, rid) / store.PREDICTIONS_FILE) for rid in results}
    return {rid: (result.get("status"), result.get("metrics"), predictions[rid]) for rid, result in results.items()}


@pytest.mark.slow
def test_torch_and_keras_runs_through_ray_match_local(address: str, tmp_path: Path) -> None:
    path = tmp_path / "rayframeworks.toml"
    path.write_text(FRAMEWORK_STUDY)
    ray_out = _suite_run(path, tmp_path / "ray", dict(os.environ), "--executor", "ray", "--address", address)
    local_out = _suite_run(path, tmp_path / "local", dict(os.environ), "--executor", "local", "--jobs", "2")
    ray_outcomes, local_outcomes = _outcomes(ray_out), _outcomes(local_out)
    assert len(ray_outcomes) == 4 and ray_outcomes.keys() == local_outcomes.keys()
    for rid, (status, metrics, predictions) in ray_outcomes.items():
        assert status == statuses.COMPLETED and (metrics, predictions) == local_outcomes[rid][1:], rid


def test_an_unreachable_address_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("ray", reason='ray is not installed (pip install "tlbench[ray]")')
    with pytest.raises(RayUnavailableError, match=r"^cannot reach the Ray cluster at 127\.0\.0\.1:\d+: .+$"):
        make_ray_launcher(f"127.0.0.1:{_free_port()}", tmp_path)
    with pytest.raises(RayUnavailableError, match="expected HOST:PORT"):
        make_ray_launcher("nowhere", tmp_path)
    monkeypatch.setenv("RAY_ADDRESS", f"127.0.0.1:{_free_port()}")  # what Ray connects to without --address
    with pytest.raises(RayUnavailableError, match="^cannot reach the Ray cluster at 127.0.0.1:"):
        make_ray_launcher(None, tmp_path)


def test_missing_ray_names_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    with pytest.raises(RayUnavailableError) as caught:
        make_ray_launcher(None, tmp_path)
    assert str(caught.value) == 'the ray executor needs Ray: pip install "tlbench[ray]"'


def test_the_node_keeps_its_own_paths_and_gpus_and_sizes_threads_to_the_task() -> None:
    driver = {"PATH": "/driver/bin", "HOME": "/home/d", "OMP_NUM_THREADS": "8", "GONE": "x"}
    job_env = {**driver, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": "3", "KERAS_BACKEND": "jax"}
    del job_env["GONE"]
    changed, unset = executor_ray._run_environment(job_env, driver)
    assert changed == {"KERAS_BACKEND": "jax"} and unset == ("GONE",)
    task = NodeTask("r", "/d", None, changed, unset, 2.0, 1.0, None, [])
    node = {"PATH": "/node/bin", "CUDA_VISIBLE_DEVICES": "0", "GONE": "y", "OMP_NUM_THREADS": "2"}
    env = node_environment(task, node)
    assert env["PATH"] == "/node/bin" and env["CUDA_VISIBLE_DEVICES"] == "0" and "GONE" not in env
    assert env["KERAS_BACKEND"] == "jax" and env["OMP_NUM_THREADS"] == env["TF_NUM_INTRAOP_THREADS"] == "2"
    cpu_only = NodeTask("r", "/d", None, changed, unset, 1.0, 0.0, None, [])
    assert node_environment(cpu_only, {"CUDA_VISIBLE_DEVICES": "0,1"})["CUDA_VISIBLE_DEVICES"] == ""


def test_progress_bars_get_only_the_latest_batch_count() -> None:
    batch = [{"event": "batch_end", "batches_done": n} for n in (1, 2, 3)] + [{"event": "epoch_end", "epoch": 0}]
    assert thin_events(batch + batch[:1]) == [batch[2], batch[3], batch[0]]


def test_a_cluster_that_wants_a_token_says_so() -> None:
    log = "[2026-01-01 W 1 1] gcs_client.cc:210: Failed to get cluster ID from GCS server: Unauthenticated: RPC error"
    assert "RAY_AUTH_MODE=token" in executor_ray._connect_failure(log, ConnectionError("Failed to connect"))
    assert executor_ray._connect_failure("", ConnectionError("Failed to connect\nmore")) == "Failed to connect"


def test_the_copies_of_dead_tasks_are_swept_live_ones_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    dead, live, fresh = (tmp_path / f"{SCRATCH_PREFIX}{name}" for name in ("dead", "live", "fresh"))
    for folder in (dead, live, fresh):
        store.write_text(folder / "run" / store.SPEC_FILE, "spec")
    for folder in (dead, live):
        os.utime(folder, (time.time() - 600, time.time() - 600))
    claim = RunLock(live)  # its task still runs
    assert claim.acquire()
    try:
        sweep_scratch()
    finally:
        claim.release()
    assert not dead.exists() and live.exists() and fresh.exists()

"""The Ray executor on a real local Ray cluster: ``suite run --executor ray`` gives the runs, statuses and metrics
of ``--executor local``; files come back without a shared filesystem; a killed Ray worker is a lost run that takes
its worker process with it (and, copied, resumes from the state it sent back); a killed or stopped driver leaves
no worker behind; Ray missing or out of reach is one line.

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

import psutil
import pytest

from suite import store
from suite.execution import ray_launcher as executor_ray
from suite.execution import run_transfer
from suite.execution.executor import result_header, run_resources, worker_environment
from suite.execution.launch import LOG_FILE, LocalLauncher, WorkerExit, WorkerJob
from suite.execution.ray_launcher import FORCE_COPY_ENV, RayLauncher, RayUnavailableError, make_ray_launcher
from suite.execution.ray_node import SCRATCH_PREFIX, NodeTask, node_environment, sweep_scratch, thin_events
from suite.execution.run_lock import RunLock
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


def _job(spec: ExperimentSpec, out: Path) -> WorkerJob:
    """What the executor does before launching: the run directory with spec.toml and the header, the job."""
    rid = run_id(spec)
    directory = store.run_dir(out, rid)
    directory.mkdir(parents=True, exist_ok=True)
    store.write_text(directory / store.SPEC_FILE, spec_to_toml(spec))
    store.write_json(directory / store.RESULT_FILE, result_header(spec, rid, "rayplugin"))
    env = {**worker_environment(spec), **dict.fromkeys(THREAD_VARIABLES, "1")}  # a Ray task's 1 CPU, here too
    return WorkerJob(rid, spec.name, directory, env, run_resources(spec), spec.training.time_limit)


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
def test_a_killed_ray_worker_is_a_lost_run_and_its_worker_dies(
    plugin_path: Path, launcher: RayLauncher, tmp_path: Path
) -> None:
    [spec] = _study(tmp_path, model="sleepy", epochs=200)[:1]
    job = _job(spec, tmp_path / "out")
    exits: list[WorkerExit] = []
    events: list[dict] = []
    thread = threading.Thread(target=lambda: exits.append(launcher.launch(job, events.append)), daemon=True)
    thread.start()
    worker = _wait_for_worker(str(job.directory))
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
def test_a_run_lost_on_a_node_resumes_from_the_state_it_sent_back(
    address: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a shared filesystem each resume state comes back as soon as it is written: a lost node costs at most
    the epoch in progress, and the resumed run ends with the metrics of a run never interrupted."""
    pytest.importorskip("torch", reason="the resume state needs a backend with save_state (torch)")
    monkeypatch.setenv(FORCE_COPY_ENV, "1")
    path = tmp_path / "resume.toml"
    path.write_text(RESUME_STUDY)
    [spec] = load_study(path).runs
    job = _job(spec, tmp_path / "out")
    ray_launcher = make_ray_launcher(address, tmp_path / "out")
    try:
        exits: list[WorkerExit] = []
        thread = threading.Thread(target=lambda: exits.append(ray_launcher.launch(job, lambda e: None)), daemon=True)
        thread.start()
        pointer = job.directory / run_transfer.RESUME_POINTER
        _wait_for(pointer.exists, f"no resume state came back to {pointer}", timeout=RUN_TIMEOUT)
        _wait_for_worker("tlbench-ray-", job.run_id).parent().kill()  # the Ray worker running the copied run
        thread.join(timeout=60)
        assert exits and exits[0].lost, exits
        saved = json.loads(pointer.read_text())
        assert (job.directory / run_transfer.RESUME_DIR / saved["directory"]).is_dir()
        assert ray_launcher.launch(job, lambda e: None) == WorkerExit(0)
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


def _wait_for_worker(*parts: str, timeout: float = 60) -> psutil.Process:
    """A ``python -m suite.execution.worker RUN_DIR`` process whose RUN_DIR contains every one of ``parts``."""
    return _wait_for_workers(*parts, count=1, timeout=timeout)[0]


def _wait_for_workers(*parts: str, count: int, timeout: float = 60) -> list[psutil.Process]:
    """``count`` distinct worker processes whose RUN_DIR contains every one of ``parts``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = []
        for process in psutil.process_iter(["cmdline"]):
            cmdline = process.info["cmdline"] or []
            if "suite.execution.worker" in cmdline and all(part in cmdline[-1] for part in parts):
                found.append(process)
        if len(found) >= count:
            return found
        time.sleep(0.2)
    raise AssertionError(f"fewer than {count} workers started with {parts} in their run directory")


@pytest.mark.slow
def test_suite_run_with_ray_matches_local(address: str, plugin_site: Path, tmp_path: Path) -> None:
    """Same run ids, statuses and metrics; the Ray runs copy their directories (as on nodes without shared storage)."""
    path = tmp_path / "rayplugin.toml"
    path.write_text(STUDY.format(model="mlp2", epochs=3))
    env = {**os.environ, "PYTHONPATH": _with_path(plugin_site), FORCE_COPY_ENV: "1"}
    ray_out = _suite_run(path, tmp_path / "ray", env, "--executor", "ray", "--address", address, "--jobs", "2")
    local_out = _suite_run(path, tmp_path / "local", env, "--executor", "local", "--jobs", "2")
    assert _outcomes(ray_out) == _outcomes(local_out)
    assert {status for status, _ in _outcomes(ray_out).values()} == {statuses.COMPLETED}
    assert not list(ray_out.glob(".ray-probe-*"))


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
        workers = _wait_for_workers(str(out), count=2)
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


def _outcomes(out: Path) -> dict[str, tuple[str, dict[str, Any]]]:
    """Run id -> (status, metrics) of every run the study file lists."""
    ids = json.loads((out / store.STUDY_FILE).read_text())["run_ids"]
    results = {rid: store.read_result(store.run_dir(out, rid)) or {} for rid in ids}
    return {rid: (result.get("status"), result.get("metrics")) for rid, result in results.items()}


@pytest.mark.slow
def test_torch_and_keras_runs_through_ray_match_local(address: str, tmp_path: Path) -> None:
    path = tmp_path / "rayframeworks.toml"
    path.write_text(FRAMEWORK_STUDY)
    ray_out = _suite_run(path, tmp_path / "ray", dict(os.environ), "--executor", "ray", "--address", address)
    local_out = _suite_run(path, tmp_path / "local", dict(os.environ), "--executor", "local", "--jobs", "2")
    ray_outcomes, local_outcomes = _outcomes(ray_out), _outcomes(local_out)
    assert len(ray_outcomes) == 4 and ray_outcomes.keys() == local_outcomes.keys()
    for rid, (status, metrics) in ray_outcomes.items():
        assert status == statuses.COMPLETED and metrics == local_outcomes[rid][1], rid


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

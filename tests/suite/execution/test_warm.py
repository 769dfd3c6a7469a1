"""Warm workers: reused per backend, replaced after a failure or N runs, killed cleanly; kill -9 mid-run resumes."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from pathlib import Path

import psutil

from suite import store
from suite.execution.executor import RunRecord, run_study
from suite.execution.launch import LocalLauncher
from suite.execution.serve import WARM_LINE
from suite.execution.warm import WarmLauncher, worker_key
from suite.spec.loader import load_study
from suite.store import statuses

STUDY = """
[study]
name = "warm"

[defaults]
backend = "centroid"
dataset = {{ source = "digits", normalization = "unit" }}
optimizer = {{ name = "sgd", lr = 0.5 }}
training = {{ epochs = {epochs} }}
{experiments}
"""
EXPERIMENT = """
[[experiments]]
name = "{name}"
model = {{ name = "{model}" }}
seed = {seed}
"""


def _study(tmp_path: Path, models: list[str], epochs: int = 2) -> Path:
    experiments = "".join(
        EXPERIMENT.format(name=f"r{index}", model=model, seed=index) for index, model in enumerate(models)
    )
    path = tmp_path / "warm.toml"
    path.write_text(STUDY.format(epochs=epochs, experiments=experiments))
    return path


def _worker_pid(record: RunRecord) -> int | None:
    """The warm worker's pid from the run's worker.log (None: a fresh process ran it)."""
    for line in (record.directory / "worker.log").read_text().splitlines():
        if line.startswith(WARM_LINE):
            return int(line.split()[2].rstrip(","))
    return None


def test_a_worker_runs_its_backends_runs_and_is_replaced_after_a_failure(plugin_path: Path, tmp_path: Path) -> None:
    study = load_study(_study(tmp_path, ["mlp2", "mlp2", "raise", "mlp2"]))
    records = run_study(study, tmp_path / "out", quiet=True)
    assert [r.status for r in records] == ["completed", "completed", "failed", "completed"]
    pids = [_worker_pid(r) for r in records]
    assert None not in pids
    assert pids[0] == pids[1] == pids[2] and pids[3] != pids[2]  # a failed run's worker is not used again
    assert "RuntimeError: boom" in store.read_result(records[2].directory)["error"]


def test_workers_are_recycled_after_n_runs_and_the_old_way_is_one_process_per_run(
    plugin_path: Path, tmp_path: Path
) -> None:
    study = load_study(_study(tmp_path, ["mlp2", "mlp2"]))
    launcher = WarmLauncher(max_runs=1)
    try:
        recycled = run_study(study, tmp_path / "recycled", quiet=True, launcher=launcher)
    finally:
        launcher.close()
    assert launcher.live_pids() == []
    pids = [_worker_pid(r) for r in recycled]
    assert None not in pids and pids[0] != pids[1]
    fresh = run_study(study, tmp_path / "fresh", quiet=True, launcher=LocalLauncher())
    assert [_worker_pid(r) for r in fresh] == [None, None]
    assert all(r.status == statuses.COMPLETED for r in [*recycled, *fresh])


def test_another_process_environment_is_another_worker() -> None:
    env = {"KERAS_BACKEND": "jax", "PYTHONHASHSEED": "0"}
    same = worker_key("keras/jax", {**env, "PYTHONHASHSEED": "7"}, ())
    assert worker_key("keras/jax", env, ()) == same  # the hash seed is set per run
    assert worker_key("keras/jax", {**env, "OMP_NUM_THREADS": "1"}, ()) != same  # deterministic threads
    assert worker_key("keras/tensorflow", env, ()) != same
    assert worker_key("keras/jax", env, (0,)) != same  # another slot


def _resume_epoch(directory: Path) -> int:
    try:
        return int(json.loads((directory / "checkpoints/resume/resume.json").read_text())["epoch"])
    except (OSError, ValueError, KeyError):
        return -1


def _warm_workers(pid: int) -> list[psutil.Process]:
    found = []
    for child in psutil.Process(pid).children(recursive=True):
        try:
            if "--serve" in child.cmdline():
                found.append(child)
        except psutil.NoSuchProcess:
            continue
    return found


def test_kill_9_of_a_warm_worker_mid_run_resumes_that_run_only_and_leaves_no_orphan(
    plugin_path: Path, tmp_path: Path
) -> None:
    study = load_study(_study(tmp_path, ["mlp2", "sleepy", "mlp2"], epochs=6))
    out = tmp_path / "out"
    records: list[RunRecord] = []
    thread = threading.Thread(target=lambda: records.extend(run_study(study, out, quiet=True)))
    thread.start()
    seen: set[psutil.Process] = set()
    deadline = time.monotonic() + 120
    victim = None
    while victim is None and time.monotonic() < deadline:  # the sleepy run, once it saved an epoch
        seen.update(_warm_workers(psutil.Process().pid))
        for directory in out.glob("runs/*"):
            result = store.read_result(directory) or {}
            if result.get("name") == "r1" and _resume_epoch(directory) >= 1:
                victim = directory
        time.sleep(0.05)
    assert victim is not None, "the sleepy run never saved an epoch"
    workers = _warm_workers(psutil.Process().pid)
    assert len(workers) == 1, [w.cmdline() for w in workers]
    [worker] = workers
    worker.kill()
    thread.join(timeout=120)
    assert [r.status for r in records] == [statuses.COMPLETED, statuses.KILLED, statuses.COMPLETED]
    first, _, last = (store.read_result(r.directory) for r in records)
    untouched = {r.name: (r.directory / store.RESULT_FILE).read_bytes() for r in records if r.name != "r1"}
    _, alive = psutil.wait_procs([*seen, worker], timeout=10)
    assert not alive, "a warm worker outlived its study"

    again = run_study(study, out, quiet=True, retry_failed=True)
    assert [r.status for r in again] == ["skipped", statuses.COMPLETED, "skipped"]
    resumed = store.read_result(again[1].directory)
    assert resumed["resumes"] == 1 and resumed["resumed_from_epoch"] >= 2
    assert len(store.load_history(again[1].directory)) == 6
    for record in again:
        if record.name in untouched:
            assert (record.directory / store.RESULT_FILE).read_bytes() == untouched[record.name]
    assert first["status"] == last["status"] == statuses.COMPLETED


def test_an_idle_worker_that_died_is_replaced_before_the_next_run(plugin_path: Path, tmp_path: Path) -> None:
    study = load_study(_study(tmp_path, ["mlp2", "mlp2"], epochs=1))
    launcher = WarmLauncher()
    try:
        only_first = dataclasses.replace(study, runs=study.runs[:1])
        [first] = run_study(only_first, tmp_path / "out", quiet=True, launcher=launcher)
        [idle] = launcher.live_pids()
        process = psutil.Process(idle)
        process.kill()
        process.wait(timeout=10)
        records = run_study(study, tmp_path / "out", quiet=True, launcher=launcher)
    finally:
        launcher.close()
    assert [r.status for r in records] == ["skipped", statuses.COMPLETED]  # not recorded as killed
    assert _worker_pid(records[1]) not in {None, idle} and _worker_pid(first) == idle

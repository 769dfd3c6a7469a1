"""Executor under pressure: concurrent executors, stale claims, kill -9, statuses, exit codes, --jobs/--only/--seeds."""

from __future__ import annotations

import dataclasses
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest
from typer.testing import CliRunner

from suite import store
from suite.cli import app
from suite.execution.executor import RunRecord, job_environment, run_study, select_runs, status_counts
from suite.execution.run_lock import RunLock
from suite.execution.slots import DETERMINISTIC_THREADS, THREAD_VARIABLES, make_slots
from suite.spec.loader import load_study
from suite.spec.models import ExperimentSpec
from suite.store import statuses

STUDY = """
[study]
name = "claims"

[defaults]
backend = "centroid"
dataset = {{ source = "digits", normalization = "unit" }}
optimizer = {{ name = "sgd", lr = 0.5 }}
training = {{ epochs = {epochs} }}

[[experiments]]
name = "a"
model = {{ name = "{model}" }}

[[experiments]]
name = "b"
model = {{ name = "{model}" }}
seed = 1
"""


def write_study(tmp_path: Path, model: str = "mlp2", epochs: int = 3, extra: str = "") -> Path:
    path = tmp_path / "claims.toml"
    path.write_text(STUDY.format(model=model, epochs=epochs) + extra)
    return path


def test_two_executors_on_one_directory_run_each_run_once(plugin_path: Path, tmp_path: Path) -> None:
    study = load_study(write_study(tmp_path, "sleepy", epochs=2))
    out = tmp_path / "out"
    outcomes: list[list[RunRecord]] = []
    threads = [threading.Thread(target=lambda: outcomes.append(run_study(study, out, quiet=True))) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    executed = [r.name for records in outcomes for r in records if r.status == statuses.COMPLETED]
    assert sorted(executed) == ["a", "b"]  # each run trained exactly once
    others = {r.status for records in outcomes for r in records if r.status != statuses.COMPLETED}
    assert others <= {"skipped", "running elsewhere"}
    for name in ("a", "b"):
        assert store.read_result(next(r.directory for r in outcomes[0] if r.name == name))["status"] == "completed"


def test_a_claimed_run_is_skipped_as_running_elsewhere(plugin_path: Path, tmp_path: Path) -> None:
    study = load_study(write_study(tmp_path))
    out = tmp_path / "out"
    first = run_study(study, out, quiet=True)
    store.run_dir(out, first[0].run_id)
    (first[0].directory / store.RESULT_FILE).unlink()  # make it not completed...
    claim = RunLock(first[0].directory)
    assert claim.acquire()  # ...and held by "another executor"
    try:
        again = run_study(study, out, quiet=True)
    finally:
        claim.release()
    assert [r.status for r in again] == ["running elsewhere", "skipped"]
    assert status_counts(again) == ["completed: 1", "running elsewhere: 1"]


def test_a_stale_running_run_is_rerun(plugin_path: Path, tmp_path: Path) -> None:
    study = load_study(write_study(tmp_path))
    out = tmp_path / "out"
    first = run_study(study, out, quiet=True)
    result = store.read_result(first[0].directory)
    store.write_json(first[0].directory / store.RESULT_FILE, {**result, "status": "running", "metrics": None})
    again = run_study(study, out, quiet=True)
    assert [r.status for r in again] == ["completed", "skipped"]


def test_failed_runs_are_rerun_only_with_retry_failed(plugin_path: Path, tmp_path: Path) -> None:
    spec = write_study(tmp_path, extra='\n[[experiments]]\nname = "boom"\nmodel = { name = "raise" }\n')
    out = tmp_path / "out"
    runner = CliRunner()
    first = runner.invoke(app, ["run", str(spec), "--out", str(out), "--quiet", "--no-check"])
    assert first.exit_code == 1
    assert "completed: 2" in first.output and "failed: 1" in first.output
    boom = store.run_dir(out, next(p.name for p in (out / "runs").iterdir() if "boom" in (p / "spec.toml").read_text()))
    started = store.read_result(boom)["started_at"]
    time.sleep(1.1)
    plain = runner.invoke(app, ["run", str(spec), "--out", str(out), "--quiet", "--no-check"])
    assert plain.exit_code == 1 and store.read_result(boom)["started_at"] == started  # not rerun
    retried = runner.invoke(app, ["run", str(spec), "--out", str(out), "--quiet", "--no-check", "--retry-failed"])
    assert retried.exit_code == 1 and store.read_result(boom)["started_at"] != started
    ok_spec = write_study(tmp_path)
    done = runner.invoke(app, ["run", str(ok_spec), "--out", str(out), "--quiet", "--no-check"])
    assert done.exit_code == 0, done.output
    assert "completed: 2" in done.output


def test_only_and_seeds_select_and_repeat_runs(plugin_path: Path, tmp_path: Path) -> None:
    spec = write_study(tmp_path, epochs=1).read_text().replace("seed = 1\n", "")
    (tmp_path / "claims.toml").write_text(spec)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app,
        ["run", str(tmp_path / "claims.toml"), "--out", str(out), "-q", "--no-check", "--only", "b*", "--seeds", "3,4"],
    )
    assert result.exit_code == 0, result.output
    names = sorted(json.loads((d / store.RESULT_FILE).read_text())["name"] for d in (out / "runs").iterdir())
    assert names == ["b[seed=3]", "b[seed=4]"]
    nothing = CliRunner().invoke(app, ["run", str(tmp_path / "claims.toml"), "--only", "zzz*", "--no-check"])
    assert nothing.exit_code == 2 and "no run matches" in nothing.output


def test_select_runs_globs_names() -> None:
    class Named:
        def __init__(self, name: str) -> None:
            self.name = name

    runs = [Named("mlp[backend=torch]"), Named("mlp[backend=keras]"), Named("cnn[backend=torch]")]
    assert [r.name for r in select_runs(runs, ["*torch*"])] == ["mlp[backend=torch]", "cnn[backend=torch]"]
    assert len(select_runs(runs, [])) == 3


def test_slots_split_cores_and_gpus() -> None:
    assert make_slots(1)[0].env == {}
    two = make_slots(2, cores=(0, 1, 2, 3), gpus=[])
    assert [s.cpu_cores for s in two] == [(0, 1), (2, 3)]
    assert two[0].env["OMP_NUM_THREADS"] == "2" and "CUDA_VISIBLE_DEVICES" not in two[0].env
    gpus = make_slots(2, cores=(0, 1), gpus=["0", "1", "2", "3"])
    assert [s.env["CUDA_VISIBLE_DEVICES"] for s in gpus] == ["0,2", "1,3"]
    assert [s.env["CUDA_VISIBLE_DEVICES"] for s in make_slots(3, cores=(0, 1), gpus=["0"])] == ["0", "0", "0"]


def test_jobs_run_concurrently(plugin_path: Path, tmp_path: Path) -> None:
    from rich.console import Console

    study = load_study(write_study(tmp_path, "sleepy", epochs=2))
    shown = io.StringIO()
    records = run_study(study, tmp_path / "out", jobs=2, console=Console(file=shown, width=300))
    assert [r.status for r in records] == ["completed", "completed"]
    progress = [line.strip().split(",")[0] for line in shown.getvalue().splitlines() if "runs done" in line]
    assert progress == ["1/2 runs done", "2/2 runs done"]  # the counter reaches N/N with --jobs 2
    spans = [_span(r.directory) for r in records]
    assert spans[0][0] < spans[1][1] and spans[1][0] < spans[0][1]  # the two workers overlapped in time


def _span(directory: Path) -> tuple[float, float]:
    """When the executor launched the run (spec.toml written) and when its final result was written."""
    return (directory / store.SPEC_FILE).stat().st_mtime, (directory / store.RESULT_FILE).stat().st_mtime


def _suite_run(spec: Path, out: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "suite", "run", str(spec), "--out", str(out), "--quiet", "--no-check"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _wait_for_worker(parent: psutil.Process, timeout: float = 60) -> psutil.Process:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for child in parent.children(recursive=True):
            try:
                if "suite.execution.worker" in " ".join(child.cmdline()):
                    return child
            except psutil.NoSuchProcess:
                continue
        time.sleep(0.1)
    raise AssertionError("no worker started")


def _wait_for_resume_state(out: Path, epoch: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for pointer in out.glob("runs/*/checkpoints/resume/resume.json"):
            try:
                if json.loads(pointer.read_text())["epoch"] >= epoch:
                    return
            except (OSError, ValueError, KeyError):
                pass
        time.sleep(0.1)
    raise AssertionError(f"no resume state for epoch {epoch}")


@pytest.mark.parametrize("how", [signal.SIGKILL, pytest.param(signal.SIGTERM, marks=pytest.mark.slow)])
def test_workers_never_outlive_their_executor_and_the_run_resumes(
    plugin_path: Path, tmp_path: Path, how: signal.Signals
) -> None:
    spec = write_study(tmp_path, "sleepy", epochs=4).read_text().split("[[experiments]]")
    (tmp_path / "one.toml").write_text("[[experiments]]".join(spec[:2]))  # only run "a"
    out = tmp_path / "out"
    executor = _suite_run(tmp_path / "one.toml", out)
    try:
        worker = _wait_for_worker(psutil.Process(executor.pid))
        _wait_for_resume_state(out, 1)
        os.kill(executor.pid, how)
        executor.wait(timeout=30)
        _, alive = psutil.wait_procs([worker], timeout=10)
        assert not alive, "the worker outlived its executor"
    finally:
        if executor.poll() is None:
            executor.kill()
    [directory] = list((out / "runs").iterdir())
    assert store.read_result(directory)["status"] in {statuses.RUNNING, statuses.INTERRUPTED}  # resumable
    from suite.execution.run_lock import is_claimed

    assert not is_claimed(directory)
    [record] = run_study(load_study(tmp_path / "one.toml"), out, quiet=True)
    result = store.read_result(directory)
    assert record.status == "completed" and result["resumes"] == 1 and result["resumed_from_epoch"] >= 2
    assert len(store.load_history(directory)) == 4


def test_a_killed_worker_is_recorded_with_its_signal(plugin_path: Path, tmp_path: Path) -> None:
    study = load_study(write_study(tmp_path, "sleepy", epochs=30))
    study = dataclasses.replace(study, runs=study.runs[:1])
    out = tmp_path / "out"
    records: list[RunRecord] = []
    thread = threading.Thread(target=lambda: records.extend(run_study(study, out, quiet=True)))
    thread.start()
    worker = _wait_for_worker(psutil.Process(os.getpid()))
    time.sleep(0.5)
    worker.kill()
    thread.join(timeout=120)
    assert records[0].status == statuses.KILLED
    result = store.read_result(records[0].directory)
    assert result["signal"] == signal.SIGKILL and "SIGKILL" in result["error"]


def test_run_resources_follow_the_device_unless_given(plugin_path: Path, tmp_path: Path) -> None:
    from suite.execution.executor import run_resources

    def resources(training: str) -> dict:
        spec = write_study(tmp_path).read_text().replace("training = { epochs = 3 }", f"training = {{ {training} }}")
        (tmp_path / "r.toml").write_text(spec)
        return run_resources(load_study(tmp_path / "r.toml").runs[0])

    assert resources('epochs = 1, device = "cuda"') == {"cpus": 1.0, "gpus": 1.0}
    assert resources('epochs = 1, device = "cpu"') == {"cpus": 1.0, "gpus": 0.0}
    assert resources("epochs = 1") == {"cpus": 1.0, "gpus": None}  # auto: one if the cluster has any
    assert resources("epochs = 1, resources = { cpus = 4, gpus = 0.5 }") == {"cpus": 4.0, "gpus": 0.5}


def test_a_deterministic_run_gets_the_same_threads_whatever_the_jobs() -> None:
    def spec(deterministic: bool) -> ExperimentSpec:
        return ExperimentSpec.model_validate(
            {
                "name": "d",
                "backend": "torch",
                "dataset": {"source": "digits"},
                "model": {"name": "mlp"},
                "training": {"epochs": 1, "deterministic": deterministic},
            }
        )

    slots = [*make_slots(1), *make_slots(2, cores=(0, 1, 2, 3), gpus=[]), *make_slots(3, cores=(0, 1), gpus=[])]
    threads = {tuple(job_environment(spec(True), slot).get(name) for name in THREAD_VARIABLES) for slot in slots}
    assert threads == {(str(DETERMINISTIC_THREADS),) * len(THREAD_VARIABLES)}
    assert "intra_op_parallelism_threads=1" in job_environment(spec(True), slots[0])["XLA_FLAGS"]
    free = {job_environment(spec(False), slot).get("OMP_NUM_THREADS") for slot in slots}
    assert len(free) > 1  # without the promise the thread count follows the slot

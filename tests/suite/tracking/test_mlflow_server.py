"""A real ``mlflow server`` (SQLite backend, artifacts served by the server) receives a study from ``suite run``."""

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.slow,  # the server takes 20-40 s to create its database and start
    pytest.mark.skipif(importlib.util.find_spec("mlflow") is None, reason="needs the mlflow extra"),
]
START_TIMEOUT_S = 180


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.fixture
def mlflow_server(tmp_path: Path) -> Iterator[str]:
    """``mlflow server`` on 127.0.0.1 and a free port; its whole process group is stopped afterwards."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    command += ["--backend-store-uri", f"sqlite:///{tmp_path / 'server.db'}"]
    command += ["--artifacts-destination", str(tmp_path / "server-artifacts")]
    env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}  # no background job workers
    log = (tmp_path / "server.log").open("wb")
    server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _healthy(url):
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"mlflow server did not start:\n{(tmp_path / 'server.log').read_text()[-3000:]}")
            time.sleep(0.5)
        yield url
    finally:
        _stop(server)
        log.close()


def _stop(server: subprocess.Popen) -> None:
    """SIGTERM to the server's own process group (uvicorn runs as its child), SIGKILL if it lingers."""
    for sig, wait_s in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
        try:
            os.killpg(server.pid, sig)
        except ProcessLookupError:
            return
        try:
            server.wait(timeout=wait_s)
            return
        except subprocess.TimeoutExpired:
            continue


def test_a_tracking_server_receives_every_run(mlflow_server: str, suite_cli, study_file: Path, tmp_path: Path) -> None:
    from mlflow.tracking import MlflowClient

    out = tmp_path / "out"
    process = suite_cli("run", str(study_file), "--out", str(out), "--mlflow", mlflow_server, "--quiet")
    assert process["exit"] == 1 and process["frameworks"] == []
    assert not (out / "mlflow.db").exists()
    client = MlflowClient(mlflow_server)
    experiment = client.get_experiment_by_name("tracked")
    runs = {run.info.run_name: run for run in client.search_runs([experiment.experiment_id])}
    assert {name: run.info.status for name, run in runs.items()} == {"discriminative": "FINISHED", "raises": "FAILED"}
    trained = runs["discriminative"]
    assert trained.data.params["strategy.discriminative_lr.lr_mult"] == "0.1"
    steps = [m.step for m in client.get_metric_history(trained.info.run_id, "val_accuracy")]
    assert steps == [1, 2, 3]  # epochs are numbered from 1 everywhere
    assert len(client.get_metric_history(trained.info.run_id, "lr_hidden")) == 3
    artifacts = {artifact.path for artifact in client.list_artifacts(trained.info.run_id)}
    assert {"spec.toml", "plan.json", "history.csv", "confusion_matrix.png", "learning_curves.png"} <= artifacts
    assert "boom" in runs["raises"].data.tags["tlbench.error"]

    again = suite_cli("export", str(out), "--mlflow", mlflow_server)
    assert again["exit"] in (0, None)
    assert len(client.search_runs([experiment.experiment_id])) == 2  # no duplicates

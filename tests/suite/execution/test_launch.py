"""The local launcher after close(): no worker it starts may run a whole run (the SIGINT-mid-tuning race)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from suite.execution.launch import LocalLauncher, WorkerJob


def test_a_launch_after_close_starts_no_worker(tmp_path: Path) -> None:
    launcher = LocalLauncher()
    launcher.close()
    job = WorkerJob(run_id="r", name="r", directory=tmp_path, env={})
    outcome = launcher.launch(job, lambda event: None)
    assert outcome.lost is not None and "stopping" in outcome.lost
    assert not (tmp_path / "worker.log").exists()


def test_a_worker_started_while_closing_is_killed_at_once() -> None:
    launcher = LocalLauncher()
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        launcher.close()  # a thread passed its stop check, then the executor closed the launcher...
        launcher._track(process)  # ...and the worker it started reports in
        assert process.wait(timeout=10) < 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

"""Run every spec of a study, each in its own child process, and keep going when one fails."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from suite import store
from suite.executor_display import Display
from suite.runners.progress import PROGRESS_FD_ENV
from suite.runners.registry import get_runner_entry
from suite.spec.loader import Study
from suite.spec.models import ExperimentSpec
from suite.spec.serialize import run_id, spec_to_data, spec_to_toml, strategy_label
from suite.tracking import StudyTracker

LOG_FILE = "worker.log"
_SEED_SUFFIX = re.compile(r",?seed=\d+(?=\]$)")


@dataclass(frozen=True)
class RunRecord:
    """Outcome of one run as the executor saw it."""

    run_id: str
    name: str
    status: str  # completed | failed | unavailable | skipped
    directory: Path
    error: str | None = None


def config_name(name: str) -> str:
    """Run name without its seed part: ``mlp[backend=torch,seed=1]`` -> ``mlp[backend=torch]``."""
    stripped = _SEED_SUFFIX.sub("", name)
    return stripped[:-2] if stripped.endswith("[]") else stripped


def result_header(spec: ExperimentSpec, rid: str, study: str) -> dict[str, Any]:
    """Identifying fields written to result.json before the run starts."""
    return {
        "run_id": rid,
        "name": spec.name,
        "config_name": config_name(spec.name),
        "seed": spec.seed,
        "status": "running",
        "error": None,
        "study": study,
        "backend": spec.backend,
        "engine": get_runner_entry(spec.backend).resolve_engine(spec.engine),
        "model": spec.model.name,
        "weights": spec.model.weights,
        "dataset": spec.dataset.display_name,
        "strategy": strategy_label(spec),
        "spec": spec_to_data(spec),
    }


def run_study(
    study: Study, out_dir: Path, *, quiet: bool = False, command: str = "", tracker: StudyTracker | None = None
) -> list[RunRecord]:
    """Execute every run of ``study`` under ``out_dir``; completed runs are skipped (resume).

    After each run (skipped ones too) ``tracker`` reads its stored result and tracks it: TensorBoard
    link, MLflow run. The default tracker follows the study's ``[study] tracking``.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    tracker = tracker or StudyTracker(out_dir, study.name, study.mlflow)
    _write_study_file(study, out_dir, command)
    records: list[RunRecord] = []
    with Display(quiet=quiet, total_runs=len(study.runs)) as display:
        for spec in study.runs:
            records.append(_execute_one(spec, study.name, out_dir, display))
            note = tracker.track(records[-1].directory)
            if note:
                display.handle_event({"event": "message", "text": note})
    return records


def _execute_one(spec: ExperimentSpec, study_name: str, out_dir: Path, display: Display) -> RunRecord:
    rid = run_id(spec)
    directory = store.run_dir(out_dir, rid)
    if store.is_completed(directory):
        display.run_skipped(spec.name)
        return RunRecord(rid, spec.name, "skipped", directory)
    directory.mkdir(parents=True, exist_ok=True)
    store.write_text(directory / store.SPEC_FILE, spec_to_toml(spec))
    header = result_header(spec, rid, study_name)
    store.write_json(directory / store.RESULT_FILE, header)
    display.run_started(spec.name)
    return_code = _spawn_worker(spec, directory, display)
    result = store.read_result(directory) or header
    if return_code != 0 and result.get("status") not in {"failed", "unavailable"}:
        result = {**header, "status": "failed", "error": _log_tail(directory / LOG_FILE, return_code)}
        store.write_json(directory / store.RESULT_FILE, result)
    status = "completed" if return_code == 0 and result.get("status") == "completed" else result["status"]
    display.run_finished(spec.name, status, result)
    return RunRecord(rid, spec.name, status, directory, result.get("error"))


def worker_environment(spec: ExperimentSpec, progress_fd: int) -> dict[str, str]:
    """Environment for the child: what its backend's engine needs, progress pipe, quieter TensorFlow logs."""
    env = dict(os.environ)
    env[PROGRESS_FD_ENV] = str(progress_fd)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # numpy/scikit-learn and torch each bring an OpenMP runtime; with both spin-waiting on few cores,
    # torch training steps ran 15-30x slower here. Passive waiting removes the fight.
    env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    env["PYTHONHASHSEED"] = str(spec.seed)
    entry = get_runner_entry(spec.backend)
    env.update(entry.child_environment(entry.resolve_engine(spec.engine)))
    return env


def _spawn_worker(spec: ExperimentSpec, directory: Path, display: Display) -> int:
    read_fd, write_fd = os.pipe()
    with open(directory / LOG_FILE, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "suite.worker", str(directory)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=worker_environment(spec, write_fd),
            pass_fds=(write_fd,),
        )
        os.close(write_fd)
        with os.fdopen(read_fd, "r", encoding="utf-8", errors="replace") as events:
            for line in events:
                display.handle_event(_parse_event(line))
        return process.wait()


def _parse_event(line: str) -> dict[str, Any]:
    try:
        event = json.loads(line)
    except json.JSONDecodeError:
        return {"event": "message", "text": line.rstrip()}
    return event if isinstance(event, dict) else {"event": "message", "text": line.rstrip()}


def _log_tail(path: Path, return_code: int, lines: int = 15) -> str:
    try:
        tail = deque(path.read_text(encoding="utf-8", errors="replace").splitlines(), maxlen=lines)
    except OSError:
        tail = deque()
    reason = f"worker exited with status {return_code}"
    if return_code < 0:
        reason += f" (killed by signal {-return_code})"
    return "\n".join([*tail, reason])


def _write_study_file(study: Study, out_dir: Path, command: str) -> None:
    path = out_dir / store.STUDY_FILE
    previous = json.loads(path.read_text()) if path.exists() else {}
    ids = list(dict.fromkeys([*previous.get("run_ids", []), *(run_id(spec) for spec in study.runs)]))
    store.write_json(
        path,
        {
            "study": study.name,
            "description": study.description,
            "spec_file": str(study.source),
            "command": command,
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "run_ids": ids,
        },
    )

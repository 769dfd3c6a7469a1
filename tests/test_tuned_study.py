"""A tuned digits study in PyTorch and Keras through the CLI: interrupted with SIGINT, resumed without repeating
finished trials, both backends offered the same first trial, and the report shows each configuration's choice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from suite import store

pytest.importorskip("optuna")
pytest.importorskip("torch")
pytest.importorskip("keras")

ROOT = Path(__file__).resolve().parents[1]
SPEC = """
[study]
name = "tuned_digits"

[study.tune]
trials = 4
sampler = "tpe"
[study.tune.space]
lr = { log_uniform = [1e-3, 1e-1] }

[defaults]
dataset = { source = "digits", normalization = "unit", subset = { train = 300, val = 100, test = 100 } }
model = { name = "mlp" }
optimizer = { name = "adamw" }
training = { epochs = 2, batch_size = 32, device = "cpu" }

[matrix]
backend = ["torch", "keras"]

[[experiments]]
name = "plain"

[[experiments]]
name = "decay"
optimizer = { weight_decay = 0.01 }
"""
CONFIGS = ["plain[backend=torch]", "plain[backend=keras]", "decay[backend=torch]", "decay[backend=keras]"]


def _suite(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "suite", *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )


def _told_complete(out: Path) -> int:
    """Trials Optuna was told completed (after the executor stored them), over every configuration."""
    try:
        summary = json.loads((out / "tuning.json").read_text())
    except (OSError, ValueError):
        return 0
    return sum(trial["state"] == "COMPLETE" for entry in summary.values() for trial in entry["trials"])


def _completed_trials(out: Path) -> dict[str, str]:
    """run id -> finished_at of every completed trial run."""
    trials = out / "trials"
    results = [store.read_result(path) for path in trials.iterdir()] if trials.is_dir() else []
    return {r["run_id"]: r["finished_at"] for r in results if r and r.get("status") == "completed"}


@pytest.mark.slow
def test_a_tuned_study_resumes_after_sigint_and_reports_its_choices(tmp_path: Path) -> None:
    spec, out = tmp_path / "tuned.toml", tmp_path / "out"
    spec.write_text(SPEC)
    first = _suite("run", str(spec), "--out", str(out), "--quiet")
    started = time.monotonic()
    while _told_complete(out) < 1 and first.poll() is None and time.monotonic() < started + 900:
        time.sleep(0.1)
    finished_before_the_signal = first.poll() is not None  # interrupt at the first told trial: 19 runs still to go
    first.send_signal(signal.SIGINT)
    output = first.communicate(timeout=120)[0].decode(errors="replace")
    waited = f"first trial told after {time.monotonic() - started:.0f} s; told: {_told_complete(out)}"
    assert not finished_before_the_signal, f"the study ended before it could be interrupted ({waited})\n{output}"
    assert first.returncode == 130, f"{waited}\n{output}"
    before = _completed_trials(out)
    assert len(before) >= 1 and _told_complete(out) < 16

    second = _suite("run", str(spec), "--out", str(out), "--quiet")
    output = second.communicate(timeout=1800)[0].decode(errors="replace")
    assert second.returncode == 0, output
    after = _completed_trials(out)
    assert {rid: after[rid] for rid in before} == before  # finished trials were not run again
    summary = json.loads((out / "tuning.json").read_text())
    assert sorted(summary) == sorted(CONFIGS)
    for config in CONFIGS:
        assert [trial["number"] for trial in summary[config]["trials"]] == [0, 1, 2, 3]
    for name in ("plain", "decay"):
        torch_trials, keras_trials = (summary[f"{name}[backend={b}]"]["trials"] for b in ("torch", "keras"))
        assert torch_trials[0]["values"] == keras_trials[0]["values"]
    finals = [store.read_result(path) for path in (out / "runs").iterdir()]
    assert sorted(result["name"] for result in finals) == sorted(CONFIGS)
    assert all(result["status"] == "completed" and "test_accuracy" in result["metrics"] for result in finals)
    assert not any(
        "test_accuracy" in (store.read_result(p) or {}).get("metrics", {}) for p in (out / "trials").iterdir()
    )

    report = subprocess.run(
        [sys.executable, "-m", "suite", "report", str(out)], cwd=ROOT, capture_output=True, text=True, env=os.environ
    )
    assert report.returncode == 0, report.stderr
    text = (out / "report.md").read_text()
    assert "## Tuning" in text
    for config in CONFIGS:
        chosen = summary[config]["best"]["values"]["lr"]
        assert f"lr = {chosen:.4g}" in text


@pytest.mark.parametrize(("spec", "runs"), [("tuned_freezing_digits.toml", 21), ("tuned_freezing.toml", 96)])
def test_the_tuned_benchmark_specs_load_and_count_their_runs(spec: str, runs: int) -> None:
    from suite.spec.loader import load_study
    from suite.tuning.driver import planned_runs

    study = load_study(ROOT / "benchmarks" / spec)
    assert planned_runs(study.runs, study.tune) == runs

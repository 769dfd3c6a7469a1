"""A tuned study through the executor on the plain-numpy plugin backend: trials, final runs, report
(one worker process per run: slow here)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reports import build_report
from suite import store
from suite.execution.executor import run_study
from suite.spec.loader import load_study

pytest.importorskip("optuna")

SPEC = """
[study]
name = "tuned"
seeds = [0, 1]

[study.tune]
trials = 3
sampler = "random"

[study.tune.space]
lr = { log_uniform = [0.01, 1.0] }

[defaults]
backend = "centroid"
dataset = { source = "digits", normalization = "unit", subset = { train = 300, val = 100, test = 100 } }
optimizer = { name = "sgd", lr = 0.5 }
training = { epochs = 2, batch_size = 64 }

[[experiments]]
name = "a"
model = { name = "mlp2" }
"""


def _study(tmp_path: Path, text: str = SPEC):
    path = tmp_path / "tuned.toml"
    path.write_text(text)
    return load_study(path)


@pytest.mark.slow
def test_trials_then_final_runs_on_every_seed(plugin_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    records = run_study(_study(tmp_path), out, quiet=True)
    names = [record.name for record in records]
    assert names == ["a[trial=0]", "a[trial=1]", "a[trial=2]", "a[seed=0]", "a[seed=1]"]
    assert all(record.status == "completed" for record in records)
    summary = json.loads((out / "tuning.json").read_text())["a"]
    assert [trial["state"] for trial in summary["trials"]] == ["COMPLETE"] * 3
    best = summary["best"]
    finals = [store.read_result(record.directory) for record in records[3:]]
    assert all(final["tuned"]["values"] == best["values"] for final in finals)
    assert all(final["spec"]["optimizer"]["lr"] == best["values"]["lr"] for final in finals)
    for record in records[:3]:
        trial = store.read_result(record.directory)
        assert record.directory.parent == out / "trials"
        assert "test_accuracy" not in trial["metrics"] and "test" not in trial["extra"]["samples"]
        assert not (record.directory / store.PREDICTIONS_FILE).exists()
        assert trial["objective"]["name"] == "val_accuracy"
    assert all("test_accuracy" in final["metrics"] for final in finals)
    again = run_study(_study(tmp_path), out, quiet=True)
    assert [record.status for record in again] == ["skipped", "skipped"]  # the budget is spent: finals only
    report = build_report([out]).read_text()
    assert "## Tuning" in report and f"lr = {best['values']['lr']:.4g}" in report
    assert "Tuning progress" in report and (out / "figures" / "tuning.png").stat().st_size > 0

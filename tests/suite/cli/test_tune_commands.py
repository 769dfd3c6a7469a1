"""The CLI with a tuned or swept study: validate counts the runs to execute; without Optuna a tuned study stops
before anything trains, with the pip command."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from suite.cli import app

SPEC = """
[study]
name = "t"
seeds = [0, 1]

[study.tune]
trials = 3
[study.tune.space]
lr = { log_uniform = [1e-3, 1e-1] }

[defaults]
backend = "centroid"
dataset = { source = "digits" }
model = { name = "mlp2" }
training = { epochs = 1 }

[[experiments]]
name = "a"
"""


def _write(tmp_path: Path, text: str = SPEC) -> Path:
    path = tmp_path / "t.toml"
    path.write_text(text)
    return path


def test_validate_counts_the_trials_and_final_runs(plugin_path: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["validate", "--no-check", str(_write(tmp_path))])
    assert result.exit_code == 0, result.output
    assert (
        "5 run(s) to execute: 1 configuration(s) tuned with 3 trial(s) in all, 2 final run(s) on the chosen values, "
        "0 untuned run(s)" in " ".join(result.output.split())
    )


def test_validate_counts_a_swept_study(plugin_path: Path, tmp_path: Path) -> None:
    untuned = SPEC.replace("[study.tune]\ntrials = 3\n[study.tune.space]\nlr = { log_uniform = [1e-3, 1e-1] }\n", "")
    args = ["validate", "--no-check", str(_write(tmp_path, untuned)), "--set", "optimizer.lr=1e-3,1e-4"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "4 run(s) to execute" in result.output


def test_without_optuna_a_tuned_study_stops_with_the_pip_command(
    plugin_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "optuna", None)  # import optuna raises ImportError
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["run", str(_write(tmp_path)), "--out", str(out), "--no-check"])
    assert result.exit_code == 2
    assert result.output.strip() == (
        "tune: this study tunes its configurations, which needs Optuna: pip install 'tlbench[tune]'"
    )
    assert not out.exists()

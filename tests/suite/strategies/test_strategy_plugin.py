"""A new strategy is one declaration: validated, planned, run in both runners and labelled in the report.

The toy strategy ``head_lr_boost`` (the head trains at ``lr * factor``) lives in a plugin module written into a
temporary site directory and named by a ``suite.strategies`` entry point; no file of the suite is edited.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]

PLUGIN = '''
"""Toy strategy: the head learns ``head_lr_boost`` times faster than the body."""
from pydantic import Field

from suite.strategies import PlanContribution, StrategyDeclaration, declare_strategy

declare_strategy(
    StrategyDeclaration(
        name="head_lr_boost",
        summary="head_lr_boost = F: the head at lr * F",
        fields={"head_lr_boost": (float | None, Field(None, gt=1))},
        contribute=lambda strategy, context: PlanContribution(lr_multipliers={"head": strategy.head_lr_boost}),
        label=lambda strategy: f"head_lr_x{strategy.head_lr_boost:g}",
    )
)
'''

STUDY = """
[study]
name = "toy_strategy"
seeds = [0]

[defaults]
dataset = {{ source = "digits", normalization = "unit", subset = {{ train = 64, val = 32, test = 32 }} }}
optimizer = {{ name = "sgd", lr = 0.01 }}
training = {{ epochs = 1, batch_size = 32, device = "cpu", precision = "fp32" }}

[matrix]
backend = {backends}

[[experiments]]
name = "boosted"
model = {{ name = "mlp" }}
strategy = {{ head_lr_boost = {factor} }}
"""


def _install(site: Path) -> dict[str, str]:
    (site / "toy_strategy.py").parent.mkdir(parents=True, exist_ok=True)
    (site / "toy_strategy.py").write_text(textwrap.dedent(PLUGIN))
    info = site / "toy_strategy-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: toy-strategy\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[suite.strategies]\nhead_lr_boost = toy_strategy\n")
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(REPO)]), "OMP_WAIT_POLICY": "PASSIVE"}


def _suite(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "suite", *args], capture_output=True, text=True, env=env, cwd=REPO, timeout=600
    )


def test_a_bad_value_of_the_new_key_is_one_line_naming_it(tmp_path: Path) -> None:
    env = _install(tmp_path / "site")
    spec = tmp_path / "bad.toml"
    spec.write_text(STUDY.format(backends='["torch"]', factor=0.5))
    done = _suite(env, "validate", str(spec), "--no-check")
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == "bad.toml: experiments[0].strategy.head_lr_boost: must be > 1, got 0.5"
    spec.write_text(STUDY.format(backends='["torch"]', factor=10))
    assert _suite(env, "validate", str(spec), "--no-check").returncode == 0


@pytest.mark.slow
def test_the_new_strategy_is_planned_run_in_both_runners_and_labelled(tmp_path: Path) -> None:
    env = _install(tmp_path / "site")
    spec = tmp_path / "study.toml"
    spec.write_text(STUDY.format(backends='["torch", "keras"]', factor=10))
    out = tmp_path / "out"
    done = _suite(env, "run", str(spec), "--out", str(out), "--quiet")
    assert done.returncode == 0, done.stderr
    runs = sorted((out / "runs").iterdir())
    assert len(runs) == 2
    for run in runs:
        result = json.loads((run / "result.json").read_text())
        assert result["status"] == "completed"
        assert result["strategy"] == "freeze=none,head_lr_x10"
        assert result["strategy_class"] == "other"  # a boosted head is no longer a full fine-tune at one LR
        rates = json.loads((run / "plan.json").read_text())["epochs"]["segments"][0]["base_rates"]
        assert rates["head"] == pytest.approx(10 * 0.01)
        assert all(rate == pytest.approx(0.01) for group, rate in rates.items() if group != "head")
    report = _suite(env, "report", str(out))
    assert report.returncode == 0, report.stderr
    assert "head_lr_x10" in (out / "report.md").read_text()

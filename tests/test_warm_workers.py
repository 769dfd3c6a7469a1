"""Warm workers change nothing a run computes: a deterministic study gives bitwise-identical metrics and
predictions whether each run has a fresh process (``--fresh-workers``) or shares a warm worker with the runs
before it, in torch and in Keras (TensorFlow, JAX)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from suite import store
from suite.execution.executor import run_study
from suite.execution.launch import LocalLauncher
from suite.spec.loader import load_study

STUDY = """
[study]
name = "warm-vs-fresh"
seeds = [0, 1]

[defaults]
backend = "{backend}"
{engine}
dataset = {{ source = "digits", normalization = "unit", split = {{ val = 0.15, test = 0.2 }} }}
optimizer = {{ name = "adam", lr = 1e-3 }}
training = {{ epochs = {epochs}, batch_size = 64, device = "cpu", precision = "fp32", deterministic = true }}

[[experiments]]
name = "mlp"
model = {{ name = "mlp" }}
"""
CNN = """
[[experiments]]
name = "cnn"
model = { name = "simple_cnn" }
"""


def _needs(module: str) -> pytest.MarkDecorator:
    return pytest.mark.skipif(importlib.util.find_spec(module) is None, reason=f"needs {module}")


def _outputs(out: Path) -> dict[str, tuple[str, bytes, bytes]]:
    """run id -> (metrics as JSON, test scores, test labels) of every completed run."""
    found = {}
    for directory in sorted((out / "runs").iterdir()):
        result = store.read_result(directory)
        assert result is not None and result["status"] == "completed", (directory, result and result.get("error"))
        with np.load(directory / store.PREDICTIONS_FILE) as arrays:
            scores, labels = arrays["scores"].tobytes(), arrays["labels"].tobytes()
        found[directory.name] = (json.dumps(result["metrics"], sort_keys=True), scores, labels)
    return found


@pytest.mark.parametrize(
    ("backend", "engine", "both_models"),
    [
        pytest.param("torch", None, False, marks=[_needs("torch"), pytest.mark.slow]),
        pytest.param("torch", None, True, marks=[_needs("torch"), pytest.mark.slow]),
        pytest.param("keras", "tensorflow", True, marks=[_needs("tensorflow"), pytest.mark.slow]),
        pytest.param("keras", "jax", True, marks=[_needs("jax"), pytest.mark.slow]),
    ],
)
def test_warm_and_fresh_workers_give_bitwise_identical_runs(
    tmp_path: Path, backend: str, engine: str | None, both_models: bool
) -> None:
    spec = tmp_path / "study.toml"
    engine_line = f'engine = "{engine}"' if engine else ""
    text = STUDY.format(backend=backend, engine=engine_line, epochs=2 if both_models else 1)
    spec.write_text(text + (CNN if both_models else ""))
    study = load_study(spec)
    warm = _outputs_after(run_study(study, tmp_path / "warm", quiet=True), tmp_path / "warm")
    fresh_records = run_study(study, tmp_path / "fresh", quiet=True, launcher=LocalLauncher())
    fresh = _outputs_after(fresh_records, tmp_path / "fresh")
    assert len(warm) == (4 if both_models else 2) and warm.keys() == fresh.keys()
    for run_id in warm:
        assert warm[run_id] == fresh[run_id], f"run {run_id} differs between a warm worker and a fresh process"


def _outputs_after(records: list, out: Path) -> dict[str, tuple[str, bytes, bytes]]:
    assert all(record.status == "completed" for record in records), [(r.name, r.error) for r in records]
    return _outputs(out)


@pytest.mark.slow
@_needs("tensorflow")
def test_suite_run_checks_in_its_warm_workers_and_trains_the_same_bits_as_fresh_processes(tmp_path: Path) -> None:
    """Through the command: the preflight answered by the warm workers leaves nothing behind in them."""
    import os
    import subprocess
    import sys

    spec = tmp_path / "study.toml"
    spec.write_text(STUDY.format(backend="keras", engine='engine = "tensorflow"', epochs=1) + CNN)
    outputs = {}
    for mode in ("warm", "fresh"):
        command = [sys.executable, "-m", "suite", "run", str(spec), "--out", str(tmp_path / mode), "--quiet"]
        done = subprocess.run(
            command + (["--fresh-workers"] if mode == "fresh" else []), capture_output=True, text=True, env=os.environ
        )
        assert done.returncode == 0, done.stderr
        outputs[mode] = _outputs(tmp_path / mode)
    assert len(outputs["warm"]) == 4 and outputs["warm"] == outputs["fresh"]

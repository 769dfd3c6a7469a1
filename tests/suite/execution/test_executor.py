"""Executor: one child process per run, failures and hard crashes recorded, study goes on, resume."""

import dataclasses
import json
from pathlib import Path

import numpy as np
from builders import plugin_study

from suite import store
from suite.execution.executor import config_name, run_study
from suite.spec.loader import load_study

SPEC = plugin_study({"ok": "mlp2", "raises": "raise", "crashes": "crash"}, epochs=4)


def test_failures_are_recorded_and_the_study_goes_on(plugin_path: Path, tmp_path: Path) -> None:
    spec_file = tmp_path / "plugin.toml"
    spec_file.write_text(SPEC)
    study = load_study(spec_file)
    out = tmp_path / "out"
    records = run_study(study, out, quiet=True, command="suite run plugin.toml")
    assert [r.status for r in records] == ["completed", "failed", "failed"]
    ok, raised, crashed = (store.read_result(r.directory) for r in records)
    assert ok["metrics"]["test_accuracy"] > 0.8  # numpy MLP on digits
    assert ok["backend"] == "centroid" and ok["run_id"] == records[0].run_id
    assert len(ok["metrics"]["confusion_matrix"]) == 10
    samples = ok["extra"]["samples"]
    assert sum(samples.values()) == 1797 and abs(samples["test"] - 0.2 * 1797) <= 1
    assert "RuntimeError: boom: the runner failed on purpose" in raised["error"]
    assert "worker exited with status 3" in crashed["error"]
    for name in (store.SPEC_FILE, store.HISTORY_FILE, store.PREDICTIONS_FILE):
        assert (records[0].directory / name).stat().st_size > 0
    assert np.load(records[0].directory / store.PREDICTIONS_FILE)["scores"].shape == (samples["test"], 10)
    assert json.loads((out / store.STUDY_FILE).read_text())["command"] == "suite run plugin.toml"

    again = run_study(study, out, quiet=True)
    assert [r.status for r in again] == ["skipped", "failed", "failed"]


def test_config_name_strips_seed() -> None:
    assert config_name("mlp[backend=torch,seed=1]") == "mlp[backend=torch]"
    assert config_name("mlp[seed=0]") == "mlp"
    assert config_name("mlp") == "mlp"


def test_missing_framework_is_reported_unavailable(plugin_path: Path, tmp_path: Path) -> None:
    spec_file = tmp_path / "missing.toml"
    spec_file.write_text(
        SPEC.replace('backend = "centroid"', 'backend = "missing"').split("[[experiments]]")[0]
        + '[[experiments]]\nname = "m"\nmodel = { name = "mlp2" }\n'
    )
    [record] = run_study(load_study(spec_file), tmp_path / "out", quiet=True)
    result = store.read_result(record.directory)
    assert record.status == result["status"] == "unavailable"
    assert result["error"] == (
        "backend 'missing' is unavailable: missing module(s): no_such_framework_xyz (pip install no_such_framework_xyz)"
    )


def test_only_matches_a_run_name_literally_and_as_a_glob(tmp_path: Path) -> None:
    from suite.execution.executor import select_runs

    spec_file = tmp_path / "s.toml"
    spec_file.write_text(
        '[study]\nname = "s"\n[defaults]\ndataset = { source = "digits" }\ntraining = { epochs = 1 }\n'
        '[[experiments]]\nname = "mlp"\nmodel = { name = "mlp" }\nmatrix = { backend = ["torch", "keras"] }\n'
    )
    runs = load_study(spec_file).runs
    assert [run.name for run in select_runs(runs, ["mlp[backend=torch]"])] == ["mlp[backend=torch]"]
    assert [run.name for run in select_runs(runs, ["mlp*"])] == ["mlp[backend=torch]", "mlp[backend=keras]"]
    assert [run.name for run in select_runs(runs, ["*keras]"])] == ["mlp[backend=keras]"]


def test_a_subset_keeps_the_study_provenance_and_each_run_its_own(plugin_path: Path, tmp_path: Path) -> None:
    from suite.execution.executor import select_runs

    spec_file = tmp_path / "two.toml"
    spec_file.write_text(plugin_study({"ok": "mlp2", "ok2": "mlp"}))
    study, out = load_study(spec_file), tmp_path / "out"
    only = {name: dataclasses.replace(study, runs=select_runs(study.runs, [name])) for name in ("ok", "ok2")}
    first = run_study(only["ok"], out, quiet=True, command="suite run two.toml --only ok")
    second = run_study(only["ok2"], out, quiet=True, command="suite run two.toml --only ok2")
    provenance = json.loads((out / store.STUDY_FILE).read_text())
    assert provenance["command"] == "suite run two.toml --only ok"
    assert [entry["command"] for entry in provenance["invocations"]] == [
        "suite run two.toml --only ok",
        "suite run two.toml --only ok2",
    ]
    assert provenance["invocations"][1]["run_ids"] == [second[0].run_id]
    assert store.read_result(first[0].directory)["command"] == "suite run two.toml --only ok"
    assert store.read_result(second[0].directory)["command"] == "suite run two.toml --only ok2"

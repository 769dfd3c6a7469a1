"""Tuning one configuration with the executor replaced by a function: same trial values for every backend,
interrupted trials finished without repeating the others, pruned trials out of the ranking, final runs on the
chosen values."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from suite import store
from suite.execution.executor import RunRecord
from suite.spec.loader import load_study
from suite.spec.models import ExperimentSpec
from suite.spec.serialize import run_id
from suite.store import statuses
from suite.tuning.driver import TunedConfiguration, prepare_storage, tune_configuration, work_units

pytest.importorskip("optuna")

SPEC = """
[study]
name = "t"
seeds = [7, 8]

[study.tune]
trials = 4
sampler = "{sampler}"
[study.tune.space]
lr = {{ log_uniform = [1e-3, 1.0] }}
"training.batch_size" = {{ choice = [16, 32, 64] }}

[defaults]
dataset = {{ source = "digits" }}
optimizer = {{ name = "sgd" }}
training = {{ epochs = 1 }}
model = {{ name = "mlp2" }}

[matrix]
backend = ["centroid", "missing"]

[[experiments]]
name = "a"
"""


class FakeExecutor:
    """Stands in for the executor: stores a result whose objective is a function of lr, records every call."""

    def __init__(self, out: Path, outcome: Any = None) -> None:
        self.out, self.calls, self.outcome = out, [], outcome or (lambda spec: statuses.COMPLETED)

    def __call__(self, spec: ExperimentSpec, extra: dict[str, Any], directory: Path | None) -> RunRecord:
        directory = directory or store.run_dir(self.out, run_id(spec))
        self.calls.append((spec, extra))
        status = self.outcome(spec)
        result = {"status": status, "name": spec.name, **extra}
        if status == statuses.COMPLETED:
            result["objective"] = {"value": 1.0 - abs(spec.optimizer.lr - 0.1)}
        store.write_json(directory / store.RESULT_FILE, result)
        return RunRecord(run_id(spec), spec.name, status, directory)


def _units(plugin_path: Path, tmp_path: Path, sampler: str = "tpe") -> list[TunedConfiguration]:
    path = tmp_path / "t.toml"
    path.write_text(SPEC.format(sampler=sampler))
    study = load_study(path)
    units = work_units(study.runs, study.tune)
    assert all(isinstance(unit, TunedConfiguration) for unit in units) and len(units) == 2
    return units


def _tune(unit: TunedConfiguration, out: Path, executor: FakeExecutor, stop_after: int | None = None) -> list:
    prepare_storage(out)
    return tune_configuration(unit, out, executor, lambda: stop_after is not None and len(executor.calls) >= stop_after)


@pytest.mark.parametrize("sampler", ["tpe", "random"])
def test_every_backend_of_a_configuration_gets_the_same_first_trials(
    plugin_path: Path, tmp_path: Path, sampler: str
) -> None:
    out = tmp_path / "out"
    values = []
    for unit in _units(plugin_path, tmp_path, sampler):
        executor = FakeExecutor(out)
        _tune(unit, out, executor)
        values.append([spec.optimizer.lr for spec, extra in executor.calls if "trial" in extra])
    torch_like, keras_like = values
    assert len(torch_like) == 4 and torch_like[0] == keras_like[0]
    assert torch_like == keras_like  # equal objectives for equal values: the sequences never part


def test_final_runs_use_the_best_trial_on_every_seed(plugin_path: Path, tmp_path: Path) -> None:
    out, unit = tmp_path / "out", _units(plugin_path, tmp_path)[0]
    executor = FakeExecutor(out)
    records = _tune(unit, out, executor)
    trials = [(spec, extra) for spec, extra in executor.calls if "trial" in extra]
    best_spec, _ = max(trials, key=lambda call: 1.0 - abs(call[0].optimizer.lr - 0.1))
    finals = [(spec, extra) for spec, extra in executor.calls if "tuned" in extra]
    assert [spec.name for spec, _ in finals] == ["a[backend=centroid,seed=7]", "a[backend=centroid,seed=8]"]
    assert {spec.optimizer.lr for spec, _ in finals} == {best_spec.optimizer.lr}
    assert {spec.training.batch_size for spec, _ in finals} == {best_spec.training.batch_size}
    assert all(record.directory.parent == out / "trials" for record in records[:4])
    assert [spec.name for spec, _ in trials] == [f"a[backend=centroid,trial={n}]" for n in range(4)]
    assert {spec.seed for spec, _ in trials} == {7}
    summary = json.loads((out / "tuning.json").read_text())["a[backend=centroid]"]
    assert summary["best"]["values"]["lr"] == best_spec.optimizer.lr and summary["budget"] == 4


def test_a_rerun_finishes_the_interrupted_trial_and_repeats_no_other(plugin_path: Path, tmp_path: Path) -> None:
    out, unit = tmp_path / "out", _units(plugin_path, tmp_path)[0]
    whole = FakeExecutor(tmp_path / "whole")
    _tune(unit, tmp_path / "whole", whole)
    interrupted = FakeExecutor(
        out, lambda spec: statuses.INTERRUPTED if spec.name.endswith("trial=2]") else "completed"
    )
    first = _tune(unit, out, interrupted)
    assert [record.status for record in first] == ["completed", "completed", "interrupted"]
    resumed = FakeExecutor(out)
    _tune(unit, out, resumed)
    names = [spec.name for spec, _ in resumed.calls]
    assert names[0] == "a[backend=centroid,trial=2]" and "a[backend=centroid,trial=0]" not in names
    assert names.count("a[backend=centroid,trial=3]") == 1 and len(names) == 2 + 2
    lrs = [spec.optimizer.lr for spec, extra in interrupted.calls + resumed.calls if "trial" in extra]
    whole_lrs = [spec.optimizer.lr for spec, extra in whole.calls if "trial" in extra]
    assert lrs[:2] + lrs[3:] == whole_lrs  # the interrupted trial's values are kept; the sequence is unchanged


def test_pruned_trials_are_kept_out_of_the_ranking(plugin_path: Path, tmp_path: Path) -> None:
    out, unit = tmp_path / "out", _units(plugin_path, tmp_path, "random")[0]
    pruned_names = {"a[backend=centroid,trial=1]", "a[backend=centroid,trial=3]"}
    executor = FakeExecutor(out, lambda spec: statuses.PRUNED if spec.name in pruned_names else statuses.COMPLETED)
    _tune(unit, out, executor)
    summary = json.loads((out / "tuning.json").read_text())["a[backend=centroid]"]
    assert [trial["state"] for trial in summary["trials"]] == ["COMPLETE", "PRUNED", "COMPLETE", "PRUNED"]
    assert summary["best"]["number"] in (0, 2)

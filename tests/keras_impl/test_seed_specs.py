"""The seed studies' Keras runs pass the Keras runner's check and each has a torch twin (only the backend differs)."""

from pathlib import Path

import pytest

from keras_impl.runner import KerasRunner
from suite.spec.loader import load_study
from suite.training.run import plan_for

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
SHRINK = ["training.epochs=1", "dataset.subset.train=16", "dataset.subset.val=8", "dataset.subset.test=8"]
KERAS_RUNS = {  # studies with more than 4 Keras runs take over 15 s here: slow
    "seed000_beans_freezing": 6,
    "seed001_animals_depth": 11,
    "seed002_mnist_mlp_vs_resnet": 1,
    "seed004_finetune_strategies": 4,
}


def _twin_key(run) -> str:  # noqa: ANN001
    """The run's spec without what may differ between the two sides of a cross-framework pair."""
    data = run.model_dump(mode="json", exclude={"name", "backend", "engine"})
    return repr(sorted(data.items()))


@pytest.mark.parametrize(
    "name",
    [pytest.param(name, marks=[pytest.mark.slow] if count > 4 else []) for name, count in sorted(KERAS_RUNS.items())],
)
def test_seed_spec_keras_runs_pass_check_and_pair_with_torch(name: str) -> None:
    study = load_study(BENCHMARKS / f"{name}.toml", overrides=SHRINK)
    keras_runs = [run for run in study.runs if run.backend == "keras"]
    torch_keys = {_twin_key(run) for run in study.runs if run.backend == "torch"}
    assert len(keras_runs) == KERAS_RUNS[name]
    runner = KerasRunner()
    described = {}
    for run in keras_runs:
        assert run.model.init == "shared" and run.model.name.startswith("resnet"), run.name
        assert runner.check(run) == [], run.name
        key = run.model.model_dump_json()
        described.setdefault(key, runner.describe(run.model, (32, 32, 3), 3))
        plan_for(run, described[key])
        assert _twin_key(run) in torch_keys, f"{run.name} has no torch twin"

"""spec.toml round trips: the training keys of issue 13 (time_limit, resumable, resources) survive, None is omitted."""

import tomllib
from pathlib import Path

import pytest

from suite.spec.loader import build_study
from suite.spec.serialize import run_id, spec_from_toml, spec_to_toml

STUDY = {
    "study": {"name": "s"},
    "defaults": {"backend": "torch", "dataset": {"source": "digits"}, "training": {"epochs": 2}},
    "experiments": [{"name": "mlp", "model": {"name": "mlp"}}],
}


def _run(training: dict) -> object:
    data = {**STUDY, "defaults": {**STUDY["defaults"], "training": {"epochs": 2, **training}}}
    return build_study(data, Path("s.toml")).runs[0]


@pytest.mark.parametrize(
    "training",
    [
        {"time_limit": 3600, "resumable": False, "resources": {"cpus": 2, "gpus": 0.5}},
        {"time_limit": 1.5, "resources": {"gpus": 1}},
        {"resumable": True, "resources": {"cpus": 0.25}},
        {},
    ],
)
def test_training_keys_round_trip(training: dict) -> None:
    run = _run(training)
    text = spec_to_toml(run)
    back = spec_from_toml(text)
    assert back == run and run_id(back) == run_id(run)
    stored = tomllib.loads(text)["training"]
    for key, value in training.items():
        assert stored[key] == value


def test_none_values_are_omitted() -> None:
    stored = tomllib.loads(spec_to_toml(_run({"resources": {"cpus": 4}})))["training"]
    assert "time_limit" not in stored and stored["resources"] == {"cpus": 4.0}
    assert stored["resumable"] is True


def test_a_stored_spec_with_inf_is_refused() -> None:
    text = spec_to_toml(_run({"time_limit": 10})).replace("time_limit = 10.0", "time_limit = inf")
    assert "time_limit = inf" in text
    with pytest.raises(ValueError, match="finite"):
        spec_from_toml(text)


def test_run_ids_ignore_execution_only_keys_and_stay_stable() -> None:
    """Changing how a run executes keeps its id, and results stored by earlier versions stay recognised."""
    from pathlib import Path

    from suite.spec.loader import load_study
    from suite.spec.serialize import run_id

    quickstart = Path(__file__).parents[3] / "benchmarks" / "quickstart.toml"
    plain = load_study(quickstart).runs[0]
    assert run_id(plain) == "376cc4d27906"  # the id this run had before time_limit/resumable/resources existed
    tweaked = load_study(
        quickstart,
        ["training.time_limit=60", "training.resumable=false", "training.resources.cpus=2"],
    ).runs[0]
    assert tweaked.training.time_limit == 60 and run_id(tweaked) == run_id(plain)
    assert run_id(load_study(quickstart, ["training.epochs=2"]).runs[0]) != run_id(plain)

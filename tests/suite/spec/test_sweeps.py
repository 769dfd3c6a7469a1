"""``--set KEY=a,b,c`` expands into a grid like a ``[matrix]`` entry; a comma that is not a list is refused."""

from pathlib import Path

import pytest

from suite.spec.errors import SpecError
from suite.spec.loader import load_study

SPEC = """
[study]
name = "s"

[defaults]
backend = "centroid"
dataset = { source = "digits" }
training = { epochs = 1 }

[[experiments]]
name = "m"
model = { name = "mlp2" }
"""


def _load(tmp_path: Path, *overrides: str):
    path = tmp_path / "s.toml"
    path.write_text(SPEC)
    return load_study(path, list(overrides))


def test_a_comma_separated_value_sweeps(plugin_path: Path, tmp_path: Path) -> None:
    study = _load(tmp_path, "optimizer.lr=1e-3,1e-4")
    assert [run.name for run in study.runs] == ["m[optimizer.lr=0.001]", "m[optimizer.lr=0.0001]"]
    assert [run.optimizer.lr for run in study.runs] == [1e-3, 1e-4]


def test_two_sweeps_make_a_grid_and_fixed_overrides_still_apply(plugin_path: Path, tmp_path: Path) -> None:
    study = _load(tmp_path, "lr=0.1,0.01", "training.batch_size=16,32", "training.epochs=2")
    assert len(study.runs) == 4
    assert {(run.optimizer.lr, run.training.batch_size) for run in study.runs} == {
        (0.1, 16),
        (0.1, 32),
        (0.01, 16),
        (0.01, 32),
    }
    assert {run.training.epochs for run in study.runs} == {2}


def test_one_toml_value_holding_commas_is_not_a_sweep(plugin_path: Path, tmp_path: Path) -> None:
    [run] = _load(tmp_path, "model.head_hidden=[8,4]", 'dataset.name="a,b"').runs
    assert run.model.head_hidden == [8, 4] and run.dataset.name == "a,b"


@pytest.mark.parametrize(
    ("override", "problem"),
    [
        ("dataset.name=a,,b", "dataset.name=a,,b: an empty value between commas"),
        ("dataset.name=run,2", "dataset.name=run,2: the comma-separated values mix number and str"),
        ("optimizer.lr=0.1,0.1", "optimizer.lr=0.1,0.1: a value is given twice"),
    ],
)
def test_a_comma_that_is_not_a_list_is_one_clear_error(
    plugin_path: Path, tmp_path: Path, override: str, problem: str
) -> None:
    with pytest.raises(SpecError) as caught:
        _load(tmp_path, override)
    assert str(caught.value).startswith(f"s.toml: --set {problem}")
    assert "quoted" in str(caught.value) or "twice" in problem

"""``--seeds``: parse_seeds and load_study(seeds=...) replace the study's seeds as ``[study] seeds`` would."""

from pathlib import Path

import pytest

from suite.spec.errors import SpecError
from suite.spec.loader import build_study, load_study, parse_seeds

SPEC = """
[study]
name = "s"
seeds = [7]

[defaults]
backend = "torch"
dataset = { source = "digits" }
training = { epochs = 1 }

[[experiments]]
name = "mlp"
model = { name = "mlp" }
"""


@pytest.mark.parametrize(("text", "seeds"), [("0,1,2", [0, 1, 2]), (" 3 , 4 ", [3, 4]), ("4294967295", [2**32 - 1])])
def test_parse_seeds(text: str, seeds: list[int]) -> None:
    assert parse_seeds(text) == seeds


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0,x", "--seeds: 'x' is not a seed; give comma-separated integers in 0..4294967295, e.g. 0,1,2"),
        ("-1", "--seeds: '-1' is not a seed; give comma-separated integers in 0..4294967295, e.g. 0,1,2"),
        ("", "--seeds: '' is not a seed; give comma-separated integers in 0..4294967295, e.g. 0,1,2"),
        ("1,", "--seeds: '' is not a seed; give comma-separated integers in 0..4294967295, e.g. 0,1,2"),
        ("1.5", "--seeds: '1.5' is not a seed; give comma-separated integers in 0..4294967295, e.g. 0,1,2"),
        ("8589934592", "--seeds: must be in 0..4294967295, got 8589934592"),
        ("9" * 5000, f"--seeds: must be in 0..4294967295, got {'9' * 5000}"),
        ("0,0", "--seeds: seed 0 is given twice; each seed makes one run per experiment"),
    ],
)
def test_parse_seeds_refuses_with_one_line(text: str, message: str) -> None:
    with pytest.raises(SpecError) as info:
        parse_seeds(text)
    assert str(info.value) == message


def test_seeds_replace_the_studys_seeds(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text(SPEC)
    study = load_study(path, seeds=[0, 1, 2])
    written = load_study(_write(tmp_path, SPEC.replace("seeds = [7]", "seeds = [0, 1, 2]")))
    assert study.seeds == [0, 1, 2]
    assert [run.name for run in study.runs] == ["mlp[seed=0]", "mlp[seed=1]", "mlp[seed=2]"]
    assert study.runs == written.runs


def test_seeds_apply_when_the_study_names_none(tmp_path: Path) -> None:
    study = load_study(_write(tmp_path, SPEC.replace("seeds = [7]\n", "")), seeds=[5])
    assert [(run.name, run.seed) for run in study.runs] == [("mlp", 5)]


@pytest.mark.parametrize(
    ("seeds", "message"),
    [
        ([2**32], "s.toml: --seeds: must be in 0..4294967295, got 4294967296"),
        ([-1], "s.toml: --seeds: must be in 0..4294967295, got -1"),
        ([True], "s.toml: --seeds: must be an integer, got True"),
        ([], "s.toml: --seeds: must be a non-empty list of integers, got []"),
    ],
)
def test_bad_seeds_argument(tmp_path: Path, seeds: list, message: str) -> None:
    with pytest.raises(SpecError) as info:
        load_study(_write(tmp_path, SPEC), seeds=seeds)
    assert str(info.value) == message


def test_seeds_and_an_experiment_seed_conflict(tmp_path: Path) -> None:
    data = {
        "defaults": {"backend": "torch", "dataset": {"source": "digits"}, "training": {"epochs": 1}},
        "experiments": [{"name": "mlp", "seed": 3, "model": {"name": "mlp"}}],
    }
    assert build_study(data, Path("s.toml")).runs[0].seed == 3
    with pytest.raises(SpecError) as info:
        build_study(data, Path("s.toml"), seeds=[0, 1])
    assert str(info.value) == "s.toml: experiments[0].seed: give seeds in --seeds or here, not both"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "s.toml"
    path.write_text(text)
    return path

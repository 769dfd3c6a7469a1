"""The ``tune`` section: validated search spaces, per-configuration tuning, planned run counts, edge notes."""

from pathlib import Path

import pytest

from suite.spec.errors import SpecError
from suite.spec.loader import load_study
from suite.tuning.driver import planned_runs
from suite.tuning.space import TuneSpec, edge_notes

SPEC = """
[study]
name = "t"
seeds = [0, 1, 2]

[study.tune]
trials = 4
[study.tune.space]
lr = { log_uniform = [1e-4, 1e-1] }
"optimizer.weight_decay" = { uniform = [0.0, 0.01] }

[defaults]
dataset = { source = "digits" }
optimizer = { name = "adamw" }
training = { epochs = 1 }
model = { name = "mlp2" }

[matrix]
backend = ["centroid", "missing"]

[[experiments]]
name = "a"

[[experiments]]
name = "b"
tune = { trials = 2, space = { "training.batch_size" = { choice = [16, 32] } } }
"""


def _load(tmp_path: Path, text: str = SPEC, overrides: tuple[str, ...] = ()):
    path = tmp_path / "t.toml"
    path.write_text(text)
    return load_study(path, list(overrides))


def test_each_configuration_is_tuned_with_the_merged_section(plugin_path: Path, tmp_path: Path) -> None:
    study = _load(tmp_path)
    assert sorted(study.tune) == [
        "a[backend=centroid]",
        "a[backend=missing]",
        "b[backend=centroid]",
        "b[backend=missing]",
    ]
    assert study.tune["a[backend=centroid]"].trials == 4
    merged = study.tune["b[backend=missing]"]
    assert merged.trials == 2 and list(merged.space) == ["lr", "optimizer.weight_decay", "training.batch_size"]
    assert merged.space["training.batch_size"].choice == [16, 32]
    assert len(study.runs) == 12  # the untuned expansion: 4 configurations x 3 seeds
    assert planned_runs(study.runs, study.tune) == 2 * (4 + 3) + 2 * (2 + 3)


def test_an_untuned_study_plans_its_runs(plugin_path: Path, tmp_path: Path) -> None:
    text = SPEC.split("[study.tune]")[0] + SPEC.split('"optimizer.weight_decay" = { uniform = [0.0, 0.01] }')[1]
    text = text.replace('tune = { trials = 2, space = { "training.batch_size" = { choice = [16, 32] } } }\n', "")
    study = _load(tmp_path, text)
    assert study.tune == {} and planned_runs(study.runs, study.tune) == len(study.runs) == 12


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ("lr = { log_uniform = [1e-4, 1e-1] }", "lr = { log_uniform = [0.0, 1e-1] }", "log_uniform: low must be > 0"),
        ("lr = { log_uniform = [1e-4, 1e-1] }", "lr = { uniform = [1.0, 0.5] }", "low must be below high"),
        ("lr = { log_uniform = [1e-4, 1e-1] }", "lr = { int = [1, 2], choice = [1] }", "exactly one of"),
        ("lr = { log_uniform = [1e-4, 1e-1] }", "lr = { uniform = [-1.0, 0.1] }", "makes an invalid run"),
        ("lr = { log_uniform = [1e-4, 1e-1] }", "seed = { int = [0, 3] }", "cannot be tuned"),
        ("trials = 4", 'trials = 4\nobjective = "test_accuracy"', "objective"),
    ],
)
def test_a_bad_search_space_is_one_line_naming_the_key(
    plugin_path: Path, tmp_path: Path, old: str, new: str, problem: str
) -> None:
    with pytest.raises(SpecError) as caught:
        _load(tmp_path, SPEC.replace(old, new, 1))
    message = str(caught.value)
    assert message.startswith("t.toml: ") and "tune" in message and problem in message.replace("make an", "makes an")
    assert "\n" not in message


def test_a_key_is_either_swept_or_tuned(plugin_path: Path, tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=r"tune\.space\.lr: also swept by a matrix or --set"):
        _load(tmp_path, overrides=("lr=0.1,0.01",))


def test_edge_notes_flag_values_on_the_edge_of_their_range() -> None:
    tune = TuneSpec.model_validate(
        {"trials": 2, "space": {"lr": {"log_uniform": [1e-4, 1e-1]}, "training.epochs": {"int": [1, 10]}}}
    )
    assert edge_notes(tune.space, {"lr": 0.099, "training.epochs": 5}) == [
        "lr = 0.099 is at the high edge of its range [0.0001, 0.1]"
    ]
    assert edge_notes(tune.space, {"lr": 1e-3, "training.epochs": 1}) == [
        "training.epochs = 1 is at the low edge of its range [1, 10]"
    ]

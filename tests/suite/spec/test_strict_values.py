"""Numbers are finite, integers are not booleans, seeds fit 32 bits, study names are directory names."""

from pathlib import Path

import pytest

from suite.spec.errors import SpecError
from suite.spec.loader import build_study, load_study
from suite.spec.models import SEED_MAX, study_name_problem

STUDY = {
    "study": {"name": "s"},
    "defaults": {"backend": "torch", "dataset": {"source": "digits"}, "training": {"epochs": 2}},
    "experiments": [{"name": "mlp", "model": {"name": "mlp"}}],
}

REJECTED = [
    # (dotted key set in [defaults], value, expected message after "s.toml: ")
    ("optimizer.lr", float("inf"), "defaults.optimizer.lr: must be a finite number, got inf"),
    ("optimizer.weight_decay", float("inf"), "defaults.optimizer.weight_decay: must be a finite number, got inf"),
    ("optimizer.lr", float("nan"), "defaults.optimizer.lr: must be a finite number, got nan"),
    ("training.time_limit", float("inf"), "defaults.training.time_limit: must be a finite number, got inf"),
    ("training.grad_clip", float("-inf"), "defaults.training.grad_clip: must be a finite number, got -inf"),
    (
        "dataset.augment.random_resized_crop.scale",
        [0.5, float("nan")],
        "defaults.dataset.augment.random_resized_crop.scale[1]: must be a finite number, got nan",
    ),
    ("training.epochs", True, "defaults.training.epochs: must be an integer, got True"),
    ("training.batch_size", False, "defaults.training.batch_size: must be an integer, got False"),
    ("training.epochs", 2.5, "defaults.training.epochs: must be an integer, got 2.5"),
    ("dataset.subset.train", True, "defaults.dataset.subset.train: must be an integer, got True"),
    ("dataset.channels", True, "defaults.dataset.channels: must be 1 or 3, got True"),
    ("optimizer.lr", True, "defaults.optimizer.lr: must be a number, got True"),
    ("training.resources.cpus", True, "defaults.training.resources.cpus: must be a number, got True"),
    ("training.deterministic", 1, "defaults.training.deterministic: must be true or false, got 1"),
    ("training.resumable", "yes", "defaults.training.resumable: must be true or false, got 'yes'"),
    ("seed", 2**33, f"defaults.seed: must be <= {SEED_MAX}, got {2**33}"),
    ("seed", -1, "defaults.seed: must be >= 0, got -1"),
    ("seed", True, "defaults.seed: must be an integer, got True"),
]


def _with_default(key: str, value: object) -> dict:
    study = {**STUDY, "defaults": {**STUDY["defaults"]}}
    node = study["defaults"]
    *parents, last = key.split(".")
    for part in parents:
        node[part] = dict(node.get(part, {}))
        node = node[part]
    node[last] = value
    return study


@pytest.mark.parametrize(("key", "value", "message"), REJECTED, ids=[f"{k}={v!r}" for k, v, _ in REJECTED])
def test_bad_value_is_one_line_naming_the_key(key: str, value: object, message: str) -> None:
    with pytest.raises(SpecError) as info:
        build_study(_with_default(key, value), Path("s.toml"))
    assert str(info.value) == f"s.toml: {message}"


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [("optimizer.lr", 1, 1.0), ("training.epochs", 3.0, 3), ("training.deterministic", True, True)],
)
def test_ints_for_floats_and_integral_floats_still_work(key: str, value: object, expected: object) -> None:
    run = build_study(_with_default(key, value), Path("s.toml")).runs[0]
    section, field = key.split(".")
    assert getattr(getattr(run, section), field) == expected


@pytest.mark.parametrize(
    ("seeds", "message"),
    [
        ([8589934592], f"study.seeds[0]: must be <= {SEED_MAX}, got 8589934592"),
        ([-1], "study.seeds[0]: must be >= 0, got -1"),
        ([True], "study.seeds[0]: must be an integer, got True"),
        ([1, 1], "study.seeds: seed 1 is given twice; each seed makes one run per experiment"),
    ],
)
def test_study_seeds_fit_32_bits(seeds: list, message: str) -> None:
    with pytest.raises(SpecError) as info:
        build_study({**STUDY, "study": {"name": "s", "seeds": seeds}}, Path("s.toml"))
    assert str(info.value) == f"s.toml: {message}"


def test_largest_seed_is_accepted() -> None:
    study = build_study({**STUDY, "study": {"name": "s", "seeds": [0, SEED_MAX]}}, Path("s.toml"))
    assert [run.seed for run in study.runs] == [0, SEED_MAX]


@pytest.mark.parametrize("name", ["../x", "a/b", "a\\b", ".", "..", ".hidden", "", "  ", "a\nb", "a\x00b", "a\tb"])
def test_study_names_that_are_not_directory_names_are_refused(name: str) -> None:
    with pytest.raises(SpecError) as info:
        build_study({**STUDY, "study": {"name": name}}, Path("s.toml"))
    message = str(info.value)
    assert message.startswith("s.toml: study.name: must ") and "\n" not in message


def test_plain_study_names_pass() -> None:
    for name in ("quickstart", "beans freezing", "résumé-2", "a.b"):
        assert study_name_problem(name) is None


def test_a_hidden_file_name_cannot_stand_in_for_the_study_name(tmp_path: Path) -> None:
    path = tmp_path / ".study.toml"
    path.write_text('[[experiments]]\nname = "mlp"\nbackend = "torch"\nmodel = { name = "mlp" }\n'
                    'dataset = { source = "digits" }\ntraining = { epochs = 1 }\n')  # fmt: skip
    with pytest.raises(SpecError, match=r"^\.study\.toml: study\.name: missing, and the file name"):
        load_study(path)


def test_unprintable_keys_stay_on_one_line() -> None:
    with pytest.raises(SpecError) as info:
        build_study(_with_default("training.a\nb", 1), Path("s.toml"))
    assert str(info.value).startswith("s.toml: defaults.training.'a\\nb': unknown key")


def test_spec_error_is_always_one_line() -> None:
    assert str(SpecError("f.toml: x: got 'a\nb\u2028c'")) == "f.toml: x: got 'a\\nb\\u2028c'"


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("training.epochs", "15", "defaults.training.epochs: must be an integer, got '15'"),
        ("optimizer.lr", "0.1", "defaults.optimizer.lr: must be a number, got '0.1'"),
        ("dataset.subset.train", "100", "defaults.dataset.subset.train: must be an integer, got '100'"),
        ("seed", "3", "defaults.seed: must be an integer, got '3'"),
    ],
)
def test_a_number_given_as_a_string_is_refused(key: str, value: str, message: str) -> None:
    with pytest.raises(SpecError) as info:
        build_study(_with_default(key, value), Path("s.toml"))
    assert str(info.value) == f"s.toml: {message}"


def test_a_misspelt_key_is_reported_before_the_key_it_hides() -> None:
    study = {**STUDY, "defaults": {**STUDY["defaults"], "training": {"epoch": 15}}}
    with pytest.raises(SpecError) as info:
        build_study(study, Path("s.toml"))
    assert str(info.value).startswith("s.toml: defaults.training.epoch: unknown key, did you mean 'epochs'? (expected")
    assert str(info.value).endswith("(and 1 more problem)")


def test_a_misspelt_top_level_table_gets_a_suggestion() -> None:
    with pytest.raises(SpecError) as info:
        build_study({**STUDY, "default": {}}, Path("s.toml"))
    assert str(info.value).startswith("s.toml: default: unknown key, did you mean 'defaults'?")


def test_yaml_scientific_numbers_are_numbers(tmp_path: Path) -> None:
    spec = tmp_path / "s.yaml"
    spec.write_text(
        "study: {name: s}\ndefaults: {backend: torch, dataset: {source: digits}, training: {epochs: 2}}\n"
        "experiments: [{name: mlp, model: {name: mlp}, optimizer: {lr: 1e-3}}]\n"
    )
    assert load_study(spec).runs[0].optimizer.lr == 0.001

"""Matrix and seed expansion, precedence, YAML, run ids and TOML round trips."""

from pathlib import Path

from suite.spec.loader import build_study, load_study
from suite.spec.serialize import run_id, spec_from_toml, spec_to_toml
from suite.strategies import strategy_label

STUDY = {
    "study": {"name": "s", "seeds": [0, 1]},
    "defaults": {"backend": "torch", "dataset": {"source": "digits"}, "training": {"epochs": 3, "batch_size": 16}},
    "matrix": {"backend": ["torch", "keras"]},
    "experiments": [
        {"name": "mlp", "model": {"name": "mlp"}, "training": {"epochs": 5}},
        {"name": "cnn", "model": {"name": "simple_cnn"}, "matrix": {"freeze": ["none", ["conv1", "conv2"]]}},
    ],
}


def test_matrix_and_seeds_expand_into_named_runs() -> None:
    study = build_study(STUDY, Path("s.toml"))
    names = [run.name for run in study.runs]
    assert names[:4] == [
        "mlp[backend=torch,seed=0]",
        "mlp[backend=torch,seed=1]",
        "mlp[backend=keras,seed=0]",
        "mlp[backend=keras,seed=1]",
    ]
    assert "cnn[backend=keras,freeze=conv1+conv2,seed=1]" in names
    assert len(names) == 4 + 8
    assert {run.seed for run in study.runs} == {0, 1}


def test_precedence_defaults_then_experiment_then_cli() -> None:
    study = build_study(STUDY, Path("s.toml"), overrides=["batch_size=4"])
    mlp, cnn = study.runs[0], study.runs[4]
    assert mlp.training.epochs == 5 and cnn.training.epochs == 3  # experiment beats defaults
    assert mlp.training.batch_size == 4 and cnn.training.batch_size == 4  # CLI beats everything
    assert cnn.strategy.freeze == "none"


def test_dotted_override_creates_nested_tables() -> None:
    study = build_study(STUDY, Path("s.toml"), overrides=["dataset.subset.train=64", "optimizer.lr=0.01"])
    assert all(run.dataset.subset.train == 64 and run.optimizer.lr == 0.01 for run in study.runs)


def test_run_id_is_stable_and_sensitive() -> None:
    first = build_study(STUDY, Path("s.toml")).runs
    again = build_study(STUDY, Path("other.toml")).runs
    assert [run_id(r) for r in first] == [run_id(r) for r in again]
    assert len({run_id(r) for r in first}) == len(first)
    changed = build_study(STUDY, Path("s.toml"), overrides=["optimizer.lr=0.5"]).runs
    assert run_id(changed[0]) != run_id(first[0])


def test_resolved_spec_round_trips_through_toml() -> None:
    run = build_study(
        {
            **STUDY,
            "experiments": [
                {
                    "name": "r",
                    "model": {"name": "resnet18", "weights": "imagenet"},
                    "strategy": {"unfreeze_schedule": {"1": ["head"], "3": ["layer4"]}, "bn_mode": "train"},
                    "training": {"epochs": 4, "early_stopping": {"patience": 2}},
                }
            ],
        },
        Path("s.toml"),
    ).runs[0]
    text = spec_to_toml(run)
    back = spec_from_toml(text)
    assert back == run and run_id(back) == run_id(run)
    assert back.strategy.unfreeze_schedule == {1: ["head"], 3: ["layer4"]}


def test_yaml_study(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        "study: {name: y}\n"
        "defaults: {backend: keras, dataset: {source: digits}, training: {epochs: 1}}\n"
        "experiments:\n  - name: m\n    model: {name: mlp}\n    engine: torch\n"
    )
    study = load_study(path)
    assert study.name == "y" and study.runs[0].engine == "torch"


def test_strategy_labels() -> None:
    base = {**STUDY, "matrix": {}, "study": {"name": "s"}}
    runs = build_study(
        {
            **base,
            "experiments": [
                {"name": "a", "model": {"name": "m"}, "strategy": {"freeze": "all_but_head"}},
                {"name": "b", "model": {"name": "m"}, "strategy": {"freeze_blocks": 3}},
                {
                    "name": "c",
                    "model": {"name": "m"},
                    "strategy": {"freeze": ["stem"], "discriminative_lr": {"lr_mult": 0.1}},
                },
            ],
        },
        Path("s.toml"),
    ).runs
    labels = [strategy_label(r.strategy) for r in runs]
    assert labels == ["freeze=all_but_head", "freeze_blocks=3", "freeze=stem,disc_lr=0.1"]


def test_shipped_quickstart_validates() -> None:
    study = load_study(Path(__file__).parents[3] / "benchmarks" / "quickstart.toml")
    assert {run.backend for run in study.runs} == {"torch", "keras"}
    assert {run.model.name for run in study.runs} == {"mlp", "simple_cnn"}


def test_dataset_display_name() -> None:
    from suite.spec.models import DatasetSpec

    assert DatasetSpec(source="hf", id="AI-Lab-Makerere/beans").display_name == "AI-Lab-Makerere/beans"
    assert DatasetSpec(source="digits", id="AI-Lab-Makerere/beans").display_name == "digits"  # id left from --set
    assert DatasetSpec(source="folder", path="/x", name="animals").display_name == "animals"

"""Preflight: every problem of every run, before training, one line each, ``<run>: <key>: <what is wrong>``."""

import subprocess
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from benchmarks.faults.malformed_specs import PREFLIGHT_KEYS, PREFLIGHT_SPECS, write_case
from suite.cli import app
from suite.preflight import check as preflight
from suite.preflight.check import check_study, input_facts, split_key
from suite.spec.loader import Study, build_study, load_study
from suite.spec.models import DatasetSpec


def _has_cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def test_each_preflight_spec_passes_validation_and_fails_the_preflight_with_one_line(tmp_path: Path) -> None:
    cases = [(label, content) for label, content in PREFLIGHT_SPECS if not ("cuda" in label and _has_cuda())]
    runs = []
    for label, content in cases:
        path = write_case(tmp_path, label, content)
        no_check = CliRunner().invoke(app, ["validate", "--no-check", str(path)])
        assert no_check.exit_code == 0, no_check.output
        runs += [run.model_copy(update={"name": label}) for run in load_study(path).runs]
    lines = check_study(Study("cases", tmp_path, [0], runs))  # one torch process for every case
    assert len(lines) == len(cases), lines
    for line, (label, _) in zip(lines, cases, strict=True):
        assert line.startswith(f"{label}: {PREFLIGHT_KEYS[label]}: "), line


def test_validate_prints_the_problem_and_exits_2(tmp_path: Path) -> None:
    label, content = PREFLIGHT_SPECS[0]
    result = CliRunner().invoke(app, ["validate", str(write_case(tmp_path, label, content))])
    assert result.exit_code == 2 and "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"mlp: {PREFLIGHT_KEYS[label]}: "), result.stderr


MULTI = """
[study]
name = "preflight"

[defaults]
dataset = { source = "digits", image_size = 16 }
training = { epochs = 1, device = "cpu" }

[matrix]
backend = ["torch", "keras"]

[[experiments]]
name = "ok"
model = { name = "mlp" }

[[experiments]]
name = "typo"
model = { name = "simple_cnm" }

[[experiments]]
name = "groups"
model = { name = "simple_cnn" }
strategy = { freeze = ["conv1", "conv9"] }

[[experiments]]
name = "blocks"
model = { name = "simple_cnn" }
strategy = { freeze_blocks = 99 }

[[experiments]]
name = "cache"
model = { name = "simple_cnn" }
training = { epochs = 1, device = "cpu", feature_cache = true }
"""


def test_every_problem_of_a_torch_and_keras_study_at_once(tmp_path: Path) -> None:
    path = tmp_path / "multi.toml"
    path.write_text(MULTI)
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    expected_starts = [
        f"{name}[backend={backend}]: {key}: "
        for name, key in [
            ("typo", "model.name"),
            ("groups", "strategy.freeze"),
            ("blocks", "strategy.freeze_blocks"),
            ("cache", "training.feature_cache"),
        ]
        for backend in ("torch", "keras")
    ]
    assert len(lines) == len(expected_starts), result.stderr
    for line, start in zip(lines, expected_starts, strict=True):
        assert line.startswith(start), (line, start)
    assert "did you mean 'simple_cnn'?" in lines[0]
    assert "'conv9'" in lines[2] and "is 99 but the model has only 3 groups" in lines[4]


@pytest.mark.slow
def test_a_valid_torch_and_keras_study_passes(tmp_path: Path) -> None:
    path = tmp_path / "valid.toml"
    valid = MULTI.split('[[experiments]]\nname = "typo"')[0]
    valid += '[[experiments]]\nname = "cnn"\nmodel = { name = "simple_cnn" }\nstrategy = { freeze_blocks = 2 }\n'
    path.write_text(valid)
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    assert result.stderr.strip() == ""


def _centroid_study(plugin_path: Path, experiments: str) -> object:
    import tomllib

    text = textwrap.dedent("""
        [defaults]
        backend = "centroid"
        dataset = { source = "digits" }
        training = { epochs = 1 }
    """) + textwrap.dedent(experiments)
    return build_study(tomllib.loads(text), Path("c.toml"))


def test_a_plugin_backend_is_checked_in_its_child(plugin_path: Path) -> None:
    study = _centroid_study(
        plugin_path,
        """
        [[experiments]]
        name = "fine"
        model = { name = "mlp2" }
        [[experiments]]
        name = "blocks"
        model = { name = "mlp2" }
        strategy = { freeze_blocks = 5 }
        [[experiments]]
        name = "typo"
        model = { name = "mlp3" }
        """,
    )
    assert check_study(study) == [
        "blocks: strategy.freeze_blocks: is 5 but the model has only 1 groups before the head (hidden)",
        "typo: model.name: unknown model 'mlp3' for backend centroid; did you mean 'mlp'? "
        "(suite list shows every model)",
    ]


def test_an_unavailable_backend_reports_nothing(plugin_path: Path) -> None:
    study = _centroid_study(plugin_path, '[[experiments]]\nname = "m"\nbackend = "missing"\nmodel = { name = "x" }\n')
    assert check_study(study) == []


def test_a_crashing_child_is_one_line_per_run(plugin_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    study = _centroid_study(
        plugin_path, '[[experiments]]\nname = "a"\nmodel = { name = "mlp2" }\n[matrix]\nlr = [0.1, 0.01]\n'
    )

    def crash(command: list[str], **kwargs: object) -> subprocess.CompletedProcess:
        return subprocess.CompletedProcess(command, 1, "", "Traceback (most recent call last):\nRuntimeError: boom\n")

    monkeypatch.setattr(preflight.subprocess, "run", crash)
    assert check_study(study) == [
        "a[lr=0.1]: backend: the centroid preflight process failed: RuntimeError: boom",
        "a[lr=0.01]: backend: the centroid preflight process failed: RuntimeError: boom",
    ]


@pytest.mark.parametrize(
    ("dataset", "facts"),
    [
        ({"source": "digits"}, ((8, 8, 1), 10)),
        ({"source": "mnist", "image_size": 32, "channels": 3}, ((32, 32, 3), 10)),
        ({"source": "cifar10"}, ((32, 32, 3), 10)),
        ({"source": "hf", "id": "beans", "image_size": 64}, ((64, 64, 3), 2)),
    ],
)
def test_input_facts_come_from_the_spec(dataset: dict, facts: tuple) -> None:
    assert input_facts(DatasetSpec.model_validate(dataset)) == facts


def test_a_folders_classes_are_its_directories(tmp_path: Path) -> None:
    for name in ("cat", "dog", "owl", ".hidden"):
        (tmp_path / "train" / name).mkdir(parents=True)
    assert input_facts(DatasetSpec(source="folder", path=str(tmp_path))) == ((32, 32, 3), 3)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("strategy.freeze: unknown layer group(s) 'x'", ("strategy.freeze", "unknown layer group(s) 'x'")),
        ("training.device = 'cuda' but no CUDA device", ("training.device", "is 'cuda' but no CUDA device")),
        ("precision 'fp16' needs a CUDA device", ("training.precision", "precision 'fp16' needs a CUDA device")),
        ("unknown keras model 'x'; known: a", ("model.name", "unknown keras model 'x'; known: a")),
        (
            "mlp has a fixed head: model.head does not apply",
            ("model.head", "mlp has a fixed head: model.head does not apply"),
        ),
        ("something odd\nhappened", ("backend", "something odd\\nhappened")),
    ],
)
def test_split_key(text: str, expected: tuple[str, str]) -> None:
    assert split_key(text) == expected


@pytest.mark.parametrize("backend", ["torch", "keras"])
def test_a_present_weights_file_of_another_architecture_is_said_before_training(tmp_path: Path, backend: str) -> None:
    """resnet10 with torchvision's resnet18 file (random weights, the real format): one model.weights line; the
    model's own file passes; a missing file is left to the file checks."""
    pytest.importorskip("torchvision")
    pytest.importorskip(backend)
    import torch
    import torchvision

    from suite.runners.registry import create_runner
    from suite.spec.models import ExperimentSpec

    torch.save(torchvision.models.resnet18().state_dict(), tmp_path / "resnet18.pth")
    runner = create_runner(backend)

    def problems(model: str, weights: Path) -> list[tuple[str, str]]:
        spec = ExperimentSpec.model_validate(
            {"name": "w", "backend": backend, "model": {"name": model, "weights": str(weights)},
             "dataset": {"source": "digits", "image_size": 32, "channels": 3}, "training": {"epochs": 1}}
        )  # fmt: skip
        return preflight._weights_problems(spec, runner)

    wrong = problems("resnet10", tmp_path / "resnet18.pth")
    assert len(wrong) == 1 and wrong[0][0] == "model.weights", wrong
    assert "does not load into resnet10" in wrong[0][1] and "\n" not in wrong[0][1], wrong
    assert problems("resnet18", tmp_path / "resnet18.pth") == []
    assert problems("resnet10", tmp_path / "absent.pth") == []

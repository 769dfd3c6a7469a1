"""``suite describe`` and ``suite list`` as a new user meets them."""

import subprocess
import sys
from pathlib import Path

import pytest


def _suite(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "suite", *args], capture_output=True, text=True)


def test_describe_an_unknown_backend_names_the_backends() -> None:
    completed = _suite("describe", "resnet18", "--backend", "jax")
    assert completed.returncode == 2
    assert completed.stderr.strip().splitlines() == ["--backend: unknown backend 'jax'; backends: keras, torch"]


def test_describe_a_model_no_backend_has_is_one_line_listing_the_models(plugin_path: Path) -> None:
    completed = _suite("describe", "mlp3", "--backend", "centroid")
    assert completed.returncode == 2, completed.stderr
    assert completed.stderr.strip().splitlines() == [
        "describe: centroid has no model 'mlp3' (did you mean mlp, mlp2?); "
        "centroid models: crash, mlp, mlp2, raise, sleepy"
    ]


@pytest.mark.slow
@pytest.mark.parametrize("model", ["no_such_net", "vit_b_16"])  # in no backend; in torch only
def test_describe_a_model_keras_lacks_is_one_line_listing_its_models(model: str) -> None:
    completed = _suite("describe", model, "--backend", "keras")
    assert completed.returncode == 2, completed.stderr
    [line] = completed.stderr.strip().splitlines()
    assert line.startswith(f"describe: keras has no model {model!r}") and "keras models: " in line
    assert "keras_mobilenet_v2" in line.split("keras models: ")[1]
    assert "Traceback" not in completed.stderr and "KeyError" not in completed.stderr


def test_list_sources_shows_only_the_sources() -> None:
    completed = _suite("list", "--sources")
    assert completed.returncode == 0, completed.stderr
    assert "data sources" in completed.stdout and "digits" in completed.stdout
    assert "backends" not in completed.stdout and "models" not in completed.stdout


@pytest.mark.parametrize(
    ("name", "family"),
    [("resnet50", "resnet"), ("wide_resnet50_2", "resnet"), ("efficientnet_v2_s", "efficientnet"), ("vit_b_16", "vit")],
)
def test_models_are_grouped_by_family(name: str, family: str) -> None:
    from suite.cli.model_commands import model_family

    assert model_family(name) == family


@pytest.mark.slow
def test_list_models_is_one_row_per_family() -> None:
    completed = _suite("list", "--models")
    assert completed.returncode == 0, completed.stderr
    [resnets] = [line for line in completed.stdout.splitlines() if line.startswith("│ resnet ")]
    assert "resnet18" in resnets and "resnet50" in resnets  # piped: the row stays whole
    assert "data sources" not in completed.stdout and len(completed.stdout.splitlines()) < 60

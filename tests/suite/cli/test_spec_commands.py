"""``suite validate`` as a new user meets it: problems name the spec file and what is missing."""

import os
from pathlib import Path

import pytest
from builders import plugin_study, run_suite

PLUGIN_STUDY = plugin_study({"ok": "mlp2"}, dataset='source = "folder", path = "DATA"')


def test_validate_plan_failure_names_the_spec_and_run(plugin_path: Path, tmp_path: Path) -> None:
    (tmp_path / "study.toml").write_text(PLUGIN_STUDY.replace("DATA", str(tmp_path / "absent")))
    completed = run_suite(tmp_path, "validate", "study.toml", "--plan", "--no-check")
    assert completed.returncode == 2
    [line] = completed.stderr.strip().splitlines()
    assert line.startswith("study.toml: ok: ") and str(tmp_path / "absent") in line
    assert "plan /" not in line


def test_validate_says_which_dataset_is_missing_and_exits_2(plugin_path: Path, tmp_path: Path) -> None:
    absent = tmp_path / "absent"
    (tmp_path / "study.toml").write_text(PLUGIN_STUDY.replace('"folder"', '"cifar10"').replace("DATA", str(absent)))
    completed = run_suite(tmp_path, "validate", "study.toml")
    assert completed.returncode == 2, completed.stderr
    lines = completed.stderr.strip().splitlines()
    assert lines[0].split()[:7] == ["missing", "dataset", "cifar10", str(absent), "looked", "in", f"{absent},"]
    assert lines[1] == "get them with: suite prefetch study.toml (online), or copy them to the paths above"


def test_validate_passes_when_the_data_is_there(plugin_path: Path, tmp_path: Path) -> None:
    (tmp_path / "study.toml").write_text(PLUGIN_STUDY.replace('source = "folder", path = "DATA"', 'source = "digits"'))
    completed = run_suite(tmp_path, "validate", "study.toml")
    assert completed.returncode == 0, completed.stderr


@pytest.mark.slow
def test_validate_says_which_weights_file_is_missing(tmp_path: Path) -> None:
    (tmp_path / "w.toml").write_text(
        '[study]\nname = "w"\n[defaults]\nbackend = "torch"\ntraining = { epochs = 1 }\n'
        'dataset = { source = "digits", channels = 3, image_size = 32 }\n'
        '[[experiments]]\nname = "r"\nmodel = { name = "resnet18", weights = "imagenet" }\n'
    )
    env = {**os.environ, "TORCH_HOME": str(tmp_path / "torch_home")}
    completed = run_suite(tmp_path, "validate", "w.toml", env=env)
    assert completed.returncode == 2, completed.stderr
    [line] = [line for line in completed.stderr.splitlines() if line.startswith("missing")]
    assert "weights" in line and str(tmp_path / "torch_home" / "hub" / "checkpoints") in line

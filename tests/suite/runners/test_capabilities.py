"""Runners declare their capabilities once; the core decides from the declaration and ``suite list`` prints it."""

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from builders import digits_bundle, numpy_spec
from numpy_backend import NUMPY_CAPABILITIES, NumpyRunner
from resumable_backend import Messages, ResumableRunner, numpy_backend_registered, prepared  # noqa: F401

from suite.runners.capabilities import RunnerCapabilities
from suite.runners.registry import discover
from suite.spec.models import ExperimentSpec
from suite.training.run import execute

ROOT = Path(__file__).resolve().parents[3]


def _spec(**sections) -> ExperimentSpec:
    return numpy_spec(training={"epochs": 2, **sections.pop("training", {})}, **sections)


def test_every_backend_declares_its_capabilities_once() -> None:
    import keras_impl
    import torch_impl

    entries = discover()
    assert entries["torch"].capabilities is torch_impl.CAPABILITIES
    assert entries["keras"].capabilities is keras_impl.CAPABILITIES
    assert entries["keras"].engines == keras_impl.CAPABILITIES.engines and entries["keras"].default_engine
    assert isinstance(NumpyRunner.capabilities, RunnerCapabilities) and ResumableRunner.capabilities.resume_state


def test_problems_name_the_spec_key_of_what_is_not_declared() -> None:
    bare = RunnerCapabilities()
    spec = _spec(
        strategy={"freeze": "all_but_head", "lora": {"dropout": 0.0}},
        training={"device": "cuda", "feature_cache": True},
        dataset={"augment": {"mixup": 0.2}},
    )
    keys = [problem.split(" ")[0].rstrip(":") for problem in bare.problems(spec)]
    assert keys == ["training.device", "strategy.lora", "training.feature_cache", "dataset.augment"]
    assert NUMPY_CAPABILITIES.problems(_spec()) == []


def test_a_backend_without_resume_state_runs_but_does_not_resume(tmp_path: Path) -> None:
    class NoResume(ResumableRunner):
        capabilities = replace(NUMPY_CAPABILITIES, resume_state=False)

    messages = Messages()
    spec = _spec()
    execute(spec, NoResume(), digits_bundle(), prepared(tmp_path, spec), messages)
    assert "not resumable: the numpy backend declares no resume state" in messages.lines
    assert not (tmp_path / "resume").exists()


def test_a_feature_cache_the_backend_does_not_declare_is_planned_off(tmp_path: Path) -> None:
    class NoCache(NumpyRunner):
        capabilities = replace(NUMPY_CAPABILITIES, feature_cache=False)

    runner, spec = NoCache(), _spec(strategy={"freeze": "all_but_head"})
    output = execute(spec, runner, digits_bundle(), tmp_path, Messages())
    assert output.extra["feature_cache"] == {"active": False, "reason": "the numpy backend declares no feature cache"}
    assert ("use_prefix_cache", ["hidden"]) not in runner.session.calls
    cached = execute(spec, NumpyRunner(), digits_bundle(), tmp_path / "declared", Messages())
    assert cached.extra["feature_cache"]["active"]


def test_a_spec_asking_for_an_undeclared_ability_is_refused_before_training(tmp_path: Path) -> None:
    spec = _spec(strategy={"freeze": "all_but_head", "train_only": ["bias"]})
    with pytest.raises(ValueError, match=r"^strategy.train_only: numpy has no bias PEFT \(none\)$"):
        execute(spec, NumpyRunner(), digits_bundle(), tmp_path, Messages())
    assert not (tmp_path / "plan.json").exists()


def test_suite_list_prints_each_backends_capabilities() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "suite", "list", "--backends"], capture_output=True, text=True, cwd=ROOT,
        env={**os.environ, "COLUMNS": "250"},
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    table = completed.stdout.split("backend capabilities")[1]
    rows = [line for line in table.splitlines() if line.startswith("│ ")]
    assert [row.split("│")[1].strip() for row in rows if row.split("│")[1].strip()] == ["keras", "torch"]
    assert "bias, norm, lora" in table and "tensorflow (default), jax, torch" in table

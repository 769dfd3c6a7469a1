"""Run specs of a tuned configuration: its trials and its final runs.

A trial is the configuration's first-seed run with the trial's values; the final runs are every seed of the
study with the best trial's values.
"""

from __future__ import annotations

from typing import Any

from suite.spec.errors import SpecError
from suite.spec.loader import with_values
from suite.spec.models import ExperimentSpec


def _with_values(spec: ExperimentSpec, values: dict[str, Any], name: str | None = None) -> ExperimentSpec:
    """``spec`` with the searched keys set (and renamed); ValueError when the values make an invalid run."""
    try:
        return with_values(spec, values, spec.name, "tune.space", name)
    except SpecError as exc:
        raise ValueError(str(exc)) from None


def trial_name(config: str, number: int) -> str:
    """``mlp[backend=torch]`` + 3 -> ``mlp[backend=torch,trial=3]``."""
    if config.endswith("]"):
        return f"{config[:-1]},trial={number}]"
    return f"{config}[trial={number}]"


def trial_spec(base: ExperimentSpec, config: str, number: int, values: dict[str, Any]) -> ExperimentSpec:
    """The run of trial ``number``: the configuration's first-seed run with the trial's values."""
    return _with_values(base, values, trial_name(config, number))


def final_specs(runs: list[ExperimentSpec], values: dict[str, Any]) -> list[ExperimentSpec]:
    """The configuration's runs on the study's seeds with the chosen values (names unchanged)."""
    return [_with_values(run, values) for run in runs]

"""Counts in a spec are bounded, and a study's run count is known (and refused above a bound) before expansion."""

from __future__ import annotations

import time
import tomllib
from pathlib import Path

import pytest

from benchmarks.faults.malformed_specs import VALID
from suite.spec.errors import SpecError
from suite.spec.loader import build_study
from suite.spec.types import MAX_EPOCHS, MAX_RUNS


def _study(extra: str = "", header: str = "") -> dict:
    return tomllib.loads(VALID.replace('name = "faults"', 'name = "faults"\n' + header) + extra)


def test_the_run_count_is_heard_before_the_runs_are_built() -> None:
    counts: list[int] = []
    study = build_study(
        _study("\n[matrix]\nlr = [0.1, 0.01, 0.001]\nbatch_size = [8, 16]\n", "seeds = [0, 1]"),
        Path("s.toml"),
        on_count=counts.append,
    )
    assert counts == [12] and len(study.runs) == 12


def test_a_huge_matrix_is_refused_at_once_and_max_runs_raises_the_bound() -> None:
    values = ", ".join(str(i + 1) for i in range(400))
    huge = f"\n[matrix]\nbatch_size = [{values}]\nepochs = [{values}]\n"
    started = time.monotonic()
    with pytest.raises(SpecError, match=f"expands to 160,000 runs, more than {MAX_RUNS:,}"):
        build_study(_study(huge), Path("s.toml"))
    assert time.monotonic() - started < 2
    small = "\n[matrix]\nbatch_size = [1, 2, 3]\n"
    with pytest.raises(SpecError, match="study.max_runs: the study expands to 3 runs, more than 2"):
        build_study(_study(small, "max_runs = 2"), Path("s.toml"))
    assert len(build_study(_study(small, "max_runs = 3"), Path("s.toml")).runs) == 3


@pytest.mark.parametrize("epochs", [MAX_EPOCHS + 1, 2**63 - 1, 10**29])
def test_epochs_beyond_the_bound_are_refused(epochs: int) -> None:
    with pytest.raises(SpecError, match=f"training.epochs: must be <= {MAX_EPOCHS}"):
        build_study(_with_epochs(epochs), Path("s.toml"))


def _with_epochs(epochs: int) -> dict:
    data = _study()
    data["defaults"]["training"]["epochs"] = epochs
    return data

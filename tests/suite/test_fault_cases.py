"""The fast fault families of benchmarks/faults/cases.py (no training) hold through the real CLI."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from benchmarks.faults.cases import CASES, FAST_FAMILIES, run_cases
from suite.cli import app


def _invoke(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    result = CliRunner().invoke(app, args, env=env or None)
    return result.exit_code, result.output


@pytest.mark.parametrize(
    "family",
    # "files" asks the torch backend's preflight child once per case (about 8 s each here)
    [pytest.param(family, marks=[pytest.mark.slow] if family == "files" else []) for family in FAST_FAMILIES],
)
def test_every_case_of_a_fast_family_holds(family: str) -> None:
    tally = run_cases(CASES[family], _invoke)
    assert tally.tried[family] == len(CASES[family]) >= 4
    assert tally.defects == []

"""Loading a study for a CLI command: the spec, or one line naming what is wrong and exit status 2."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import typer

from suite.cli.app import err_console as _err
from suite.spec.errors import SpecError
from suite.spec.loader import Study, load_study, parse_seeds


def load_or_exit(spec: Path, overrides: list[str] | None, seeds: str | None = None) -> Study:
    """The validated study, or print the spec error's one line and exit with status 2.

    ``seeds`` is ``--seeds`` as typed (``0,1,2``): it replaces the study's seeds.
    """
    try:
        return load_study(spec, overrides or [], parse_seeds(seeds) if seeds is not None else None, _say_count)
    except SpecError as exc:
        _err.print(str(exc), highlight=False, markup=False, emoji=False, soft_wrap=True)
        raise typer.Exit(code=2) from None


def exit_on_missing_needs(study: Study) -> None:
    """Print each dataset or weights file the study needs and this machine lacks; exit with status 2 if any."""
    from suite.preflight.prefetch import missing_needs

    missing = missing_needs(study.runs)
    for need in missing:
        _err.print(need.line(), highlight=False, markup=False, emoji=False, soft_wrap=True)
    if missing:
        hint = f"get them with: suite prefetch {study.source} (online), or copy them to the paths above"
        _err.print(hint, highlight=False, markup=False, soft_wrap=True)
        raise typer.Exit(code=2)


LARGE_STUDY = 1_000
"""From this many runs on, the count is printed before the runs are built and validated (which takes a while)."""


def _say_count(count: int) -> None:
    if count >= LARGE_STUDY:
        _err.print(f"expanding {count:,} runs", highlight=False, markup=False, emoji=False)


def exit_on_preflight_problems(study: Study, check: Callable[[Study], list[str]] | None = None) -> None:
    """Print each preflight problem of the study as one line on stderr; exit with status 2 when there are any.

    ``check`` finds them (default: :func:`suite.preflight.check.check_study`, one child process per backend).
    """
    from suite.preflight.check import check_study

    problems = (check or check_study)(study)
    for line in problems:
        _err.print(line, highlight=False, markup=False, emoji=False, soft_wrap=True)
    if problems:
        raise typer.Exit(code=2)


def exit_unless_tunable(study: Study) -> None:
    """A study that tunes needs Optuna: when it is missing, print the pip command and exit with status 2."""
    from suite.tuning.studies import optuna_problem

    problem = optuna_problem() if study.tune else None
    if problem:
        _err.print(problem, highlight=False, markup=False, emoji=False, soft_wrap=True)
        raise typer.Exit(code=2)


def planned_line(study: Study) -> str:
    """``12 runs to execute: 2 configurations tuned x 4 trials + 4 final runs, 0 untuned runs``."""
    from suite.tuning.driver import TunedConfiguration, planned_runs, work_units

    total = planned_runs(study.runs, study.tune)
    if not study.tune:
        return f"{total} run(s) to execute"
    units = work_units(study.runs, study.tune)
    tuned = [unit for unit in units if isinstance(unit, TunedConfiguration)]
    trials = sum(unit.tune.trials for unit in tuned)
    finals = sum(len(unit.runs) for unit in tuned)
    return (
        f"{total} run(s) to execute: {len(tuned)} configuration(s) tuned with {trials} trial(s) in all, "
        f"{finals} final run(s) on the chosen values, {len(units) - len(tuned)} untuned run(s)"
    )

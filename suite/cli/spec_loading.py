"""Loading a study for a CLI command: the spec, or one line naming what is wrong and exit status 2."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from suite.spec.errors import SpecError
from suite.spec.loader import Study, load_study, parse_seeds

_err = Console(stderr=True)


def load_or_exit(spec: Path, overrides: list[str] | None, seeds: str | None = None) -> Study:
    """The validated study, or print the spec error's one line and exit with status 2.

    ``seeds`` is ``--seeds`` as typed (``0,1,2``): it replaces the study's seeds.
    """
    try:
        return load_study(spec, overrides or [], parse_seeds(seeds) if seeds is not None else None, _say_count)
    except SpecError as exc:
        _err.print(str(exc), highlight=False, markup=False, emoji=False, soft_wrap=True)
        raise typer.Exit(code=2) from None


LARGE_STUDY = 1_000
"""From this many runs on, the count is printed before the runs are built and validated (which takes a while)."""


def _say_count(count: int) -> None:
    if count >= LARGE_STUDY:
        _err.print(f"expanding {count:,} runs", highlight=False, markup=False, emoji=False)


def exit_on_preflight_problems(study: Study) -> None:
    """Print each preflight problem of the study as one line on stderr; exit with status 2 when there are any."""
    from suite.preflight.check import check_study

    problems = check_study(study)
    for line in problems:
        _err.print(line, highlight=False, markup=False, emoji=False, soft_wrap=True)
    if problems:
        raise typer.Exit(code=2)

"""Spec commands of ``suite``: ``validate`` (the runs a study expands to, preflight, ``--plan``).

Runs in the ``suite`` process; plans are made in a child process per run (:mod:`suite.preflight.introspect`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape
from rich.table import Table

from suite.cli.app import SetOption, app, out_console
from suite.cli.introspection import introspect
from suite.cli.spec_loading import (
    exit_on_missing_needs,
    exit_on_preflight_problems,
    exit_unless_tunable,
    load_or_exit,
    planned_line,
)
from suite.spec.models import ExperimentSpec


@app.command()
def validate(
    spec: Annotated[Path, typer.Argument(help="Study file (TOML or YAML).")],
    overrides: SetOption = None,
    plan: Annotated[bool, typer.Option("--plan", help="Also plan each run (loads its data and model).")] = False,
    no_check: Annotated[
        bool,
        typer.Option(
            "--no-check", help="Skip the preflight (models, layer groups, devices, frameworks, data and weights files)."
        ),
    ] = False,
    seeds: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--seeds", help="Repeat every run with these seeds, e.g. 0,1,2 (replaces [study] seeds)."),
    ] = None,
) -> None:
    """Check a study file and list the runs it expands to, then preflight every run, without training.

    The preflight asks each backend, in its own process, about every run at once (unknown models, layer
    groups, freeze ranges, devices, framework facts), then checks that each dataset and pretrained weights
    file the runs read is on this machine; each problem or missing file is one line, exit status 2.
    """
    from suite.spec.serialize import run_id

    study = load_or_exit(spec, overrides, seeds)
    table = Table(title=f"{study.name}: {len(study.runs)} run(s)")
    for column in ("run", "run_id", "backend", "model", "dataset", "epochs"):
        table.add_column(column)
    for run_spec in study.runs:
        backend = run_spec.backend_label
        table.add_row(
            escape(run_spec.name),
            run_id(run_spec),
            backend,
            run_spec.model.name,
            run_spec.dataset.display_name,
            str(run_spec.training.epochs),
        )
    out_console.print(table)
    out_console.print(planned_line(study), highlight=False, markup=False)
    exit_unless_tunable(study)
    if not no_check:
        exit_on_preflight_problems(study)
        exit_on_missing_needs(study)
    if plan:
        backends = len({run_spec.backend for run_spec in study.runs})
        failures = [run_spec.name for run_spec in study.runs if not _print_plan(run_spec, spec, backends)]
        if failures:
            raise typer.Exit(code=2)


def _print_plan(run_spec: ExperimentSpec, spec_file: Path, backends: int) -> bool:
    """Plan one run in a child process and print it; False (with ``SPEC: run: reason`` printed) when it cannot run."""
    import tempfile

    from suite.execution.display import applicable_notes
    from suite.plan.display import plan_lines
    from suite.runners.registry import get_runner_entry
    from suite.spec.serialize import spec_to_toml

    with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False, encoding="utf-8") as handle:
        handle.write(spec_to_toml(run_spec))
    entry = get_runner_entry(run_spec.backend)
    try:
        environment = entry.child_environment(entry.resolve_engine(run_spec.engine))
        payload = introspect(["plan", handle.name], environment, label=f"{spec_file.name}: {run_spec.name}")
    except typer.Exit:
        return False
    finally:
        Path(handle.name).unlink(missing_ok=True)
    out_console.print(f"\n[bold]{escape(run_spec.name)}[/bold]")
    payload["notes"] = applicable_notes(payload.get("notes", []), backends)
    for line in plan_lines(payload):
        out_console.print(line, highlight=False, markup=False)
    return True

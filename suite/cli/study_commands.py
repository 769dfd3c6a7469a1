"""Study commands of ``suite``: ``run`` (execute a study), ``export`` (to MLflow), ``report`` and ``plan-seeds``.

Runs in the ``suite`` process; reaches ``reports/`` through its package entry point only.
"""

from __future__ import annotations

import dataclasses
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from suite.cli.app import MlflowOption, SetOption, app, err_console, out_console
from suite.cli.output import DEFAULT_OUT, exit_on_write_failure, out_dir_or_exit
from suite.cli.spec_loading import exit_on_preflight_problems, exit_unless_tunable, load_or_exit

if TYPE_CHECKING:
    from collections.abc import Callable

    from suite.execution.launch import Launcher
    from suite.spec.loader import Study
    from suite.tracking import StudyTracker

"""Where ``suite run`` writes a study without ``--out``: ``results/<study name>`` under the working directory."""


@app.command()
def run(
    spec: Annotated[Path, typer.Argument(help="Study file (TOML or YAML).")],
    out: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--out", help=f"Output directory (default: {DEFAULT_OUT}/<study name>, from where you run)."),
    ] = None,
    overrides: SetOption = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")] = False,
    mlflow: MlflowOption = None,
    jobs: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option("--jobs", "-j", min=1, help="Runs at once (local: 1; ray: as many as the cluster fits)."),
    ] = None,
    only: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Option("--only", help="Run only the runs whose name matches this glob (repeatable)."),
    ] = None,
    seeds: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--seeds", help="Repeat every run with these seeds, e.g. 0,1,2 (replaces [study] seeds)."),
    ] = None,
    retry_failed: Annotated[
        bool, typer.Option("--retry-failed", help="Also rerun failed, diverged, timed-out and killed runs.")
    ] = False,
    executor: Annotated[str, typer.Option("--executor", help="local or ray.")] = "local",
    address: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--address", help="Ray cluster address (--executor ray); default: a local Ray."),
    ] = None,
    check: Annotated[
        bool, typer.Option("--check/--no-check", help="Check every run with its backend before training.")
    ] = True,
    fresh_workers: Annotated[
        bool,
        typer.Option(
            "--fresh-workers",
            help="One new worker process per run (ray: one Ray task each), instead of warm workers reused per backend.",
        ),
    ] = False,
) -> None:
    """Run every experiment of a study in worker processes, one backend per process; completed runs are skipped.

    Locally, a warm worker per backend/engine (and per --jobs slot) imports its framework once and runs that
    backend's runs one after another, each from a fresh state; with Ray, each actor (a slot on a node) keeps
    such workers. --fresh-workers starts one process per run.
    Exits 0 only when every selected run completed.
    """
    from suite.execution.executor import run_study, select_runs, status_counts

    if executor not in {"local", "ray"}:
        err_console.print(f"--executor: must be local or ray, got {executor!r}", highlight=False, markup=False)
        raise typer.Exit(code=2)
    study = load_or_exit(spec, overrides, seeds)
    study = dataclasses.replace(study, runs=select_runs(study.runs, only or []))
    if not study.runs:
        err_console.print(f"--only: no run matches {', '.join(only or [])}", highlight=False, markup=False)
        raise typer.Exit(code=2)
    exit_unless_tunable(study)
    local = _local_launcher(executor, address, fresh_workers)
    try:
        if check:
            exit_on_preflight_problems(study, _checker(local, jobs or 1))
        _mlflow_available_or_exit(mlflow or study.mlflow)
        out_dir = out_dir_or_exit(out, study.name)
        tracker = _tracker_or_exit(out_dir, study.name, mlflow or study.mlflow)
    except BaseException:
        if local is not None:
            local.close()
        raise
    command = shlex.join(["suite", *sys.argv[1:]]) if sys.argv else "suite run"
    launcher = local or _launcher_or_exit(address, out_dir, fresh_workers)
    if not quiet:  # after every check that can refuse the run, so a refusal is one line
        err_console.print(f"output directory: {out_dir}", highlight=False, markup=False)
    try:
        records = run_study(
            study,
            out_dir,
            quiet=quiet,
            command=command,
            tracker=tracker,
            jobs=jobs or (len(study.runs) if executor == "ray" else 1),
            launcher=launcher,
            retry_failed=retry_failed,
            console=err_console,
        )
    except KeyboardInterrupt:
        err_console.print("interrupted: rerun the same command to resume", highlight=False, markup=False)
        raise typer.Exit(code=130) from None
    except OSError as exc:  # disk full, read-only, a file where a directory goes
        exit_on_write_failure(exc, out_dir)
    finally:
        launcher.close()
    unfinished = [record for record in records if record.status not in {"completed", "skipped", "pruned"}]
    for line in status_counts(records):
        err_console.print(line, highlight=False, markup=False)
    if not quiet:
        err_console.print(f"results in {out_dir}", highlight=False, markup=False)
        if tracker.mlflow is not None:
            err_console.print(tracker.summary(), highlight=False, markup=False, soft_wrap=True)
    for record in unfinished:  # the progress lines showed each reason whole; quiet, only this summary does
        reason = record.reason or record.status
        shown = reason if quiet else reason.splitlines()[0]
        err_console.print(f"{record.status}: {record.name}: {shown}", highlight=False, markup=False)
    if _print_problems(tracker, out_dir) or unfinished:
        raise typer.Exit(code=1)


def _local_launcher(executor: str, address: str | None, fresh: bool) -> Launcher | None:
    """The local executor's launcher (warm workers, or a fresh process per run); None for Ray."""
    if executor != "local":
        return None
    if address:
        err_console.print("--address: only with --executor ray", highlight=False, markup=False)
        raise typer.Exit(code=2)
    if fresh:
        from suite.execution.launch import LocalLauncher

        return LocalLauncher()
    from suite.execution.warm import WarmLauncher

    return WarmLauncher()


def _checker(launcher: Launcher | None, jobs: int) -> Callable[[Study], list[str]] | None:
    """The preflight asked of the warm workers that will run the study; None: one child process per backend."""
    from suite.execution.warm import WarmLauncher

    if not isinstance(launcher, WarmLauncher):
        return None
    from suite.execution.warm_check import check_in_workers

    return lambda study: check_in_workers(study, launcher, jobs)


def _launcher_or_exit(address: str | None, out_dir: Path, fresh: bool) -> Launcher:
    """The Ray launcher (warm actors, or a Ray task per run); a missing or unreachable Ray exits with one line."""
    from suite.execution.ray_launcher import RayUnavailableError, make_ray_launcher

    try:
        return make_ray_launcher(address, out_dir, warm=not fresh)
    except RayUnavailableError as exc:
        err_console.print(str(exc), highlight=False, markup=False, soft_wrap=True)
        raise typer.Exit(code=2) from None


@app.command()
def export(
    out: Annotated[Path, typer.Argument(help="A study's output directory (what suite run --out wrote).")],
    mlflow: MlflowOption = None,
) -> None:
    """Log a stored study to MLflow; runs already there and unchanged are not logged again."""
    from suite.tracking import TrackingUnavailableError, export_study

    if not mlflow:
        err_console.print("export: say where to: --mlflow (OUT/mlflow.db) or --mlflow URI, e.g. http://127.0.0.1:5000")
        raise typer.Exit(code=2)
    try:
        tracker = export_study(out, mlflow)
    except (FileNotFoundError, TrackingUnavailableError) as exc:
        err_console.print(str(exc), highlight=False, markup=False)
        raise typer.Exit(code=2) from None
    out_console.print(tracker.summary(), highlight=False, markup=False, soft_wrap=True)
    if _print_problems(tracker, out):
        raise typer.Exit(code=1)


def _mlflow_available_or_exit(mlflow: str | None) -> None:
    """Exit 2 with one line when MLflow tracking is asked for but cannot work, before anything is written."""
    from suite.tracking import TrackingUnavailableError, require_mlflow

    if mlflow is None:
        return
    try:
        require_mlflow(mlflow)
    except TrackingUnavailableError as exc:
        err_console.print(str(exc), highlight=False, markup=False)
        raise typer.Exit(code=2) from None


def _tracker_or_exit(out_dir: Path, study: str, mlflow: str | None) -> StudyTracker:
    from suite.tracking import StudyTracker, TrackingUnavailableError

    try:
        return StudyTracker(out_dir, study, mlflow)
    except TrackingUnavailableError as exc:
        err_console.print(str(exc), highlight=False, markup=False)
        raise typer.Exit(code=2) from None


def _print_problems(tracker: StudyTracker, out_dir: Path) -> bool:
    for problem in tracker.problems:
        err_console.print(problem, highlight=False, markup=False, soft_wrap=True)
    if tracker.mlflow is not None and any(problem.startswith("mlflow:") for problem in tracker.problems):
        hint = f"the results are stored; log them later: suite export {out_dir} --mlflow={tracker.mlflow.uri}"
        err_console.print(hint, highlight=False, markup=False, soft_wrap=True)
    return bool(tracker.problems)


@app.command()
def report(
    dirs: Annotated[list[Path], typer.Argument(help="One or more study output directories.")],
    out: Annotated[Optional[Path], typer.Option("--out", help="Output file.")] = None,  # noqa: UP045
    fmt: Annotated[str, typer.Option("--format", help="md, csv or parquet.")] = "md",
) -> None:
    """Merge stored results into a markdown report with plots (or a CSV/Parquet table)."""
    from reports import build_report

    missing = [d for d in dirs if not d.is_dir()]
    if missing:
        err_console.print(f"not a directory: {missing[0]}", highlight=False, markup=False)
        raise typer.Exit(code=2)
    if fmt not in {"md", "csv", "parquet"}:
        err_console.print(f"--format: must be md, csv or parquet, got {fmt!r}", highlight=False, markup=False)
        raise typer.Exit(code=2)
    try:
        path = build_report(
            list(dirs), out=out, fmt=fmt, on_problem=lambda line: err_console.print(line, highlight=False, markup=False)
        )
    except (FileNotFoundError, ValueError) as exc:
        err_console.print(str(exc), highlight=False, markup=False)
        raise typer.Exit(code=2) from None
    except OSError as exc:  # disk full, read-only, a file where a directory goes
        exit_on_write_failure(exc, out.parent if out else dirs[0])
    out_console.print(f"wrote {path}", highlight=False)


@app.command("plan-seeds")
def plan_seeds(
    out_dir: Annotated[Path, typer.Argument(help="A study output directory.")],
    target_diff: Annotated[
        float, typer.Option("--target-diff", help="Accuracy difference to detect, in percentage points.")
    ] = 0.5,
) -> None:
    """Seeds and test samples a target accuracy difference needs, from the study's own spread."""
    from reports import plan_seeds as plan

    if not out_dir.is_dir():
        err_console.print(f"not a directory: {out_dir}", highlight=False, markup=False)
        raise typer.Exit(code=2)
    try:
        text = plan(out_dir, target_diff)
    except (FileNotFoundError, ValueError) as exc:
        err_console.print(str(exc), highlight=False, markup=False)
        raise typer.Exit(code=2) from None
    out_console.print(text, highlight=False, markup=False, soft_wrap=True)

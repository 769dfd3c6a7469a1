"""The ``suite`` command: run, report, validate, list, describe.

This module never imports a deep-learning framework: training runs in worker processes and model
introspection in ``suite.introspect`` child processes.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from suite.cli_spec import load_or_exit
from suite.spec.models import ExperimentSpec

if TYPE_CHECKING:
    from suite.launch import Launcher
    from suite.spec.loader import Study
    from suite.tracking import StudyTracker

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Cross-framework transfer-learning benchmarks.")
_out = Console()
_err = Console(stderr=True)

SetOption = Annotated[
    Optional[list[str]],  # noqa: UP045 - typer needs Optional
    typer.Option("--set", help="Override a key in every run, e.g. --set training.epochs=1 (repeatable)."),
]
MlflowOption = Annotated[
    Optional[str],  # noqa: UP045 - typer needs Optional
    typer.Option(
        "--mlflow",
        metavar="[URI]",
        help="Also log every run to MLflow: a tracking URI; alone (or 'local') the store OUT/mlflow.db.",
    ),
]


@app.command()
def run(
    spec: Annotated[Path, typer.Argument(help="Study file (TOML or YAML).")],
    out: Annotated[Optional[Path], typer.Option("--out", help="Output directory.")] = None,  # noqa: UP045
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
) -> None:
    """Run every experiment of a study, each in its own process; completed runs are skipped.

    Exits 0 only when every selected run completed.
    """
    from suite.executor import run_study, select_runs, status_counts

    if executor not in {"local", "ray"}:
        _err.print(f"--executor: must be local or ray, got {executor!r}", highlight=False, markup=False)
        raise typer.Exit(code=2)
    study = load_or_exit(spec, overrides, seeds)
    study = dataclasses.replace(study, runs=select_runs(study.runs, only or []))
    if not study.runs:
        _err.print(f"--only: no run matches {', '.join(only or [])}", highlight=False, markup=False)
        raise typer.Exit(code=2)
    if check:
        _exit_on_preflight_problems(study)
    out_dir = out or Path("results") / study.name
    command = shlex.join(["suite", *sys.argv[1:]]) if sys.argv else "suite run"
    tracker = _tracker_or_exit(out_dir, study.name, mlflow or study.mlflow)
    launcher = _launcher_or_exit(executor, address, out_dir)
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
        )
    except KeyboardInterrupt:
        _err.print("interrupted: rerun the same command to resume", highlight=False, markup=False)
        raise typer.Exit(code=130) from None
    finally:
        launcher.close()
    unfinished = [record for record in records if record.status not in {"completed", "skipped"}]
    for line in status_counts(records):
        _err.print(line, highlight=False, markup=False)
    if not quiet:
        _err.print(f"results in {out_dir}", highlight=False, markup=False)
        if tracker.mlflow is not None:
            _err.print(tracker.summary(), highlight=False, markup=False, soft_wrap=True)
    for record in unfinished:
        last = (record.error or "").strip().splitlines()[-1:] or [record.status]
        _err.print(f"{record.status}: {record.name}: {last[0]}", highlight=False, markup=False)
    if _print_problems(tracker, out_dir) or unfinished:
        raise typer.Exit(code=1)


def _launcher_or_exit(executor: str, address: str | None, out_dir: Path) -> Launcher:
    from suite.launch import LocalLauncher

    if executor == "local":
        if address:
            _err.print("--address: only with --executor ray", highlight=False, markup=False)
            raise typer.Exit(code=2)
        return LocalLauncher()
    from suite.executor_ray import RayUnavailableError, make_ray_launcher

    try:
        return make_ray_launcher(address, out_dir)
    except RayUnavailableError as exc:
        _err.print(str(exc), highlight=False, markup=False, soft_wrap=True)
        raise typer.Exit(code=2) from None


@app.command()
def export(
    out: Annotated[Path, typer.Argument(help="A study's output directory (what suite run --out wrote).")],
    mlflow: MlflowOption = None,
) -> None:
    """Log a stored study to MLflow; runs already there and unchanged are not logged again."""
    from suite.tracking import TrackingUnavailableError, export_study

    if not mlflow:
        _err.print("export: say where to: --mlflow (OUT/mlflow.db) or --mlflow URI, e.g. http://127.0.0.1:5000")
        raise typer.Exit(code=2)
    try:
        tracker = export_study(out, mlflow)
    except (FileNotFoundError, TrackingUnavailableError) as exc:
        _err.print(str(exc), highlight=False, markup=False)
        raise typer.Exit(code=2) from None
    _out.print(tracker.summary(), highlight=False, markup=False, soft_wrap=True)
    if _print_problems(tracker, out):
        raise typer.Exit(code=1)


def _tracker_or_exit(out_dir: Path, study: str, mlflow: str | None) -> StudyTracker:
    from suite.tracking import StudyTracker, TrackingUnavailableError

    try:
        return StudyTracker(out_dir, study, mlflow)
    except TrackingUnavailableError as exc:
        _err.print(str(exc), highlight=False, markup=False)
        raise typer.Exit(code=2) from None


def _print_problems(tracker: StudyTracker, out_dir: Path) -> bool:
    for problem in tracker.problems:
        _err.print(problem, highlight=False, markup=False, soft_wrap=True)
    if tracker.mlflow is not None and any(problem.startswith("mlflow:") for problem in tracker.problems):
        hint = f"the results are stored; log them later: suite export {out_dir} --mlflow={tracker.mlflow.uri}"
        _err.print(hint, highlight=False, markup=False, soft_wrap=True)
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
        _err.print(f"not a directory: {missing[0]}", highlight=False, markup=False)
        raise typer.Exit(code=2)
    if fmt not in {"md", "csv", "parquet"}:
        _err.print(f"--format: must be md, csv or parquet, got {fmt!r}", highlight=False, markup=False)
        raise typer.Exit(code=2)
    try:
        path = build_report(
            list(dirs), out=out, fmt=fmt, on_problem=lambda line: _err.print(line, highlight=False, markup=False)
        )
    except (FileNotFoundError, ValueError) as exc:
        _err.print(str(exc), highlight=False, markup=False)
        raise typer.Exit(code=2) from None
    _out.print(f"wrote {path}", highlight=False)


@app.command()
def validate(
    spec: Annotated[Path, typer.Argument(help="Study file (TOML or YAML).")],
    overrides: SetOption = None,
    plan: Annotated[bool, typer.Option("--plan", help="Also plan each run (loads its data and model).")] = False,
    no_check: Annotated[
        bool, typer.Option("--no-check", help="Skip the preflight (models, layer groups, devices, frameworks).")
    ] = False,
    seeds: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--seeds", help="Repeat every run with these seeds, e.g. 0,1,2 (replaces [study] seeds)."),
    ] = None,
) -> None:
    """Check a study file and list the runs it expands to, then preflight every run, without training.

    The preflight asks each backend, in its own process, about every run at once (unknown models, layer
    groups, freeze ranges, devices, framework facts) and prints each problem as one line; exit status 2.
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
    _out.print(table)
    if not no_check:
        _exit_on_preflight_problems(study)
    if plan:
        failures = [run_spec.name for run_spec in study.runs if not _print_plan(run_spec)]
        if failures:
            raise typer.Exit(code=2)


def _exit_on_preflight_problems(study: Study) -> None:
    """Print each preflight problem of the study as one line on stderr; exit with status 2 when there are any."""
    from suite.preflight import check_study

    problems = check_study(study)
    for line in problems:
        _err.print(line, highlight=False, markup=False, emoji=False, soft_wrap=True)
    if problems:
        raise typer.Exit(code=2)


def _print_plan(run_spec: ExperimentSpec) -> bool:
    """Plan one run in a child process and print it; False (with the reason printed) when it cannot run."""
    import tempfile

    from suite.plan.display import plan_lines
    from suite.runners.registry import get_runner_entry
    from suite.spec.serialize import spec_to_toml

    with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False, encoding="utf-8") as handle:
        handle.write(spec_to_toml(run_spec))
    entry = get_runner_entry(run_spec.backend)
    try:
        payload = _introspect(["plan", handle.name], entry.child_environment(entry.resolve_engine(run_spec.engine)))
    except typer.Exit:
        return False
    finally:
        Path(handle.name).unlink(missing_ok=True)
    _out.print(f"\n[bold]{escape(run_spec.name)}[/bold]")
    for line in plan_lines(payload):
        _out.print(line, highlight=False, markup=False)
    return True


@app.command("list")
def list_command(
    models: Annotated[bool, typer.Option("--models/--no-models", help="Also list each backend's models.")] = True,
) -> None:
    """List backends (and whether they can run here), data sources and models."""
    from suite.data.registry import list_sources
    from suite.runners.registry import discover

    backends = Table(title="backends")
    for column in ("name", "available", "detail"):
        backends.add_column(column)
    entries = discover()
    for name, entry in sorted(entries.items()):
        ok, reason = entry.availability()
        backends.add_row(name, "yes" if ok else "no", entry.description if ok else reason)
    _out.print(backends)
    sources = Table(title="data sources")
    sources.add_column("name")
    sources.add_column("description")
    for name, description in sorted(list_sources().items()):
        sources.add_row(name, description)
    _out.print(sources)
    if models:
        for name, entry in sorted(entries.items()):
            if entry.availability()[0]:
                _print_models(name)


def _print_models(backend: str) -> None:
    payload = _introspect(["models", backend])
    table = Table(title=f"{backend} models")
    table.add_column("name")
    table.add_column("description")
    for name, description in sorted(payload.items()):
        table.add_row(escape(name), escape(description))
    _out.print(table)


@app.command()
def describe(
    model: Annotated[str, typer.Argument(help="Model name, e.g. resnet18.")],
    backend: Annotated[str, typer.Option(help="torch or keras.")] = "torch",
    input_size: Annotated[int, typer.Option(help="Input height and width.")] = 224,
    channels: Annotated[int, typer.Option(help="Input channels.")] = 3,
    classes: Annotated[int, typer.Option(help="Number of classes of the head.")] = 10,
    lora_rank: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option(min=1, help="Also count each PEFT method's trainable parameters (LoRA at this rank)."),
    ] = None,
) -> None:
    """Show a model's layer groups with parameter counts (what freeze/freeze_blocks refer to)."""
    model_json = json.dumps({"name": model})
    shape = [str(input_size), str(input_size), str(channels)]
    rank = [str(lora_rank)] if lora_rank else []
    counts = _introspect(["describe", backend, model_json, *shape, str(classes), *rank])
    table = Table(title=f"{model} ({backend}, {input_size}x{input_size}x{channels}, {classes} classes)")
    for column in ("group", "params", "trainable"):
        table.add_column(column, justify="right" if column != "group" else "left")
    for group, numbers in counts["groups"].items():
        table.add_row(group, f"{numbers['total']:,}", f"{numbers['trainable']:,}")
    table.add_row("total", f"{counts['total']:,}", f"{counts['trainable']:,}", end_section=True)
    _out.print(table)
    if counts.get("buffers"):
        _out.print(f"non-trainable buffers (e.g. BatchNorm statistics): {counts['buffers']:,}")
    if counts.get("peft"):
        _print_peft(counts["peft"], counts["total"])


def _print_peft(trainable: dict[str, int], total: int) -> None:
    """Trainable parameters per PEFT method (``describe --lora-rank``)."""
    table = Table(title="trainable parameters per method (the head always trains)")
    for column in ("method", "trainable", "% of total"):
        table.add_column(column, justify="left" if column == "method" else "right")
    for method, count in trainable.items():
        table.add_row(escape(method), f"{count:,}", f"{100 * count / total:.2f}%")
    _out.print(table)


@app.command()
def parity(
    model: Annotated[Optional[list[str]], typer.Option("--model", help="Model(s); default: every shared one.")] = None,  # noqa: UP045
    input_size: Annotated[Optional[int], typer.Option(help="Input height and width.")] = None,  # noqa: UP045
    backends: Annotated[
        str, typer.Option(help="Comma-separated backends or backend/engine; the first is the reference.")
    ] = "torch,keras",
) -> None:
    """Same weights, same batch: max |Δ logit| and max |Δ weight| after one SGD step, per backend pair."""
    from suite.parity import format_rows, run_parity
    from suite.spec.models import SHARED_ARCHITECTURES

    models = model or list(SHARED_ARCHITECTURES)
    unknown = [name for name in models if name not in SHARED_ARCHITECTURES]
    if unknown:
        _err.print(
            f"--model: {unknown[0]!r} does not exist in every backend; shared: {', '.join(SHARED_ARCHITECTURES)}"
        )
        raise typer.Exit(code=2)
    try:
        rows = run_parity(models, input_size, [name.strip() for name in backends.split(",") if name.strip()])
    except ValueError as exc:
        _err.print(str(exc), highlight=False, markup=False)
        raise typer.Exit(code=2) from None
    _out.print(format_rows(rows), highlight=False, markup=False, soft_wrap=True)
    if not all(row.passed for row in rows):
        raise typer.Exit(code=1)


def _introspect(args: list[str], extra_env: dict[str, str] | None = None) -> dict:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "OMP_WAIT_POLICY": "PASSIVE", **(extra_env or {})}
    completed = subprocess.run(
        [sys.executable, "-m", "suite.introspect", *args], capture_output=True, text=True, env=env, check=False
    )
    lines = completed.stdout.strip().splitlines()
    if completed.returncode != 0 or not lines:
        tail = (completed.stderr.strip().splitlines() or ["no output"])[-1]
        _err.print(f"{' '.join(args[:2])}: {tail}", highlight=False, markup=False, soft_wrap=True)
        raise typer.Exit(code=1)
    return json.loads(lines[-1])


@app.command("plan-seeds")
def plan_seeds(
    out_dir: Annotated[Path, typer.Argument(help="A study output directory.")],
    target_diff: Annotated[
        float, typer.Option("--target-diff", help="Accuracy difference to detect, in percentage points.")
    ] = 0.5,
) -> None:
    """Seeds and test samples a target accuracy difference needs, from the study's own spread."""
    from reports.plan import plan_seeds as plan

    if not out_dir.is_dir():
        _err.print(f"not a directory: {out_dir}", highlight=False, markup=False)
        raise typer.Exit(code=2)
    try:
        text = plan(out_dir, target_diff)
    except (FileNotFoundError, ValueError) as exc:
        _err.print(str(exc), highlight=False, markup=False)
        raise typer.Exit(code=2) from None
    _out.print(text, highlight=False, markup=False, soft_wrap=True)


def with_mlflow_default(args: list[str]) -> list[str]:
    """Let ``--mlflow`` go without a URI: alone, before another option or before an existing path it means ``local``."""
    expanded = []
    for index, arg in enumerate(args):
        expanded.append(arg)
        following = args[index + 1] if index + 1 < len(args) else None
        if arg == "--mlflow" and (following is None or following.startswith("-") or Path(following).exists()):
            expanded.append("local")
    return expanded


def main() -> None:
    """Console-script entry point."""
    app(args=with_mlflow_default(sys.argv[1:]))


from suite.cli_data import register as _register_data_commands  # noqa: E402 - after app and its helpers

_register_data_commands(app)

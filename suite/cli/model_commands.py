"""Model commands of ``suite``: ``list`` (backends, sources, models), ``describe`` (groups) and ``parity``.

Runs in the ``suite`` process; anything that needs a framework is asked of a child process per backend.
"""

from __future__ import annotations

import json
from typing import Annotated, Optional

import typer
from rich.markup import escape
from rich.table import Table

from suite.cli.app import app, err_console, out_console
from suite.cli.introspection import introspect


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
    available = {name: entry.availability(probe=True) for name, entry in sorted(entries.items())}
    for name, entry in sorted(entries.items()):
        ok, reason = available[name]
        backends.add_row(name, "yes" if ok else "no", entry.description if ok else reason)
    out_console.print(backends)
    sources = Table(title="data sources")
    sources.add_column("name")
    sources.add_column("description")
    for name, description in sorted(list_sources().items()):
        sources.add_row(name, description)
    out_console.print(sources)
    if models:
        for name in sorted(entries):
            if available[name][0]:
                _print_models(name)


def _print_models(backend: str) -> None:
    payload = introspect(["models", backend])
    table = Table(title=f"{backend} models")
    table.add_column("name")
    table.add_column("description")
    for name, description in sorted(payload.items()):
        table.add_row(escape(name), escape(description))
    out_console.print(table)


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
    counts = introspect(["describe", backend, model_json, *shape, str(classes), *rank])
    table = Table(title=f"{model} ({backend}, {input_size}x{input_size}x{channels}, {classes} classes)")
    for column in ("group", "params", "trainable"):
        table.add_column(column, justify="right" if column != "group" else "left")
    for group, numbers in counts["groups"].items():
        table.add_row(group, f"{numbers['total']:,}", f"{numbers['trainable']:,}")
    table.add_row("total", f"{counts['total']:,}", f"{counts['trainable']:,}", end_section=True)
    out_console.print(table)
    if counts.get("buffers"):
        out_console.print(f"non-trainable buffers (e.g. BatchNorm statistics): {counts['buffers']:,}")
    if counts.get("peft"):
        _print_peft(counts["peft"], counts["total"])


def _print_peft(trainable: dict[str, int], total: int) -> None:
    """Trainable parameters per PEFT method (``describe --lora-rank``)."""
    table = Table(title="trainable parameters per method (the head always trains)")
    for column in ("method", "trainable", "% of total"):
        table.add_column(column, justify="left" if column == "method" else "right")
    for method, count in trainable.items():
        table.add_row(escape(method), f"{count:,}", f"{100 * count / total:.2f}%")
    out_console.print(table)


@app.command()
def parity(
    model: Annotated[Optional[list[str]], typer.Option("--model", help="Model(s); default: every shared one.")] = None,  # noqa: UP045
    input_size: Annotated[Optional[int], typer.Option(help="Input height and width.")] = None,  # noqa: UP045
    backends: Annotated[
        str, typer.Option(help="Comma-separated backends or backend/engine; the first is the reference.")
    ] = "torch,keras",
) -> None:
    """Same weights, same batch: max |Δ logit| and max |Δ weight| after one SGD step, per backend pair."""
    from suite.parity.compare import format_rows, run_parity
    from suite.spec.models import SHARED_ARCHITECTURES

    models = model or list(SHARED_ARCHITECTURES)
    unknown = [name for name in models if name not in SHARED_ARCHITECTURES]
    if unknown:
        err_console.print(
            f"--model: {unknown[0]!r} does not exist in every backend; shared: {', '.join(SHARED_ARCHITECTURES)}"
        )
        raise typer.Exit(code=2)
    try:
        rows = run_parity(models, input_size, [name.strip() for name in backends.split(",") if name.strip()])
    except ValueError as exc:
        err_console.print(str(exc), highlight=False, markup=False)
        raise typer.Exit(code=2) from None
    out_console.print(format_rows(rows), highlight=False, markup=False, soft_wrap=True)
    if not all(row.passed for row in rows):
        raise typer.Exit(code=1)

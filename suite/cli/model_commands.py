"""Model commands of ``suite``: ``list`` (backends, sources, models by family), ``describe`` (groups), ``parity``.

Runs in the ``suite`` process; anything that needs a framework is asked of a child process per backend.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Annotated, Optional

import typer
from rich.markup import escape
from rich.table import Table

from suite.cli.app import app, err_console, out_console
from suite.cli.introspection import introspect

if TYPE_CHECKING:
    from suite.runners.registry import RunnerEntry


@app.command("list")
def list_command(
    models: Annotated[bool, typer.Option("--models", help="Only the models, by family and backend.")] = False,
    sources: Annotated[bool, typer.Option("--sources", help="Only the data sources.")] = False,
    backends: Annotated[bool, typer.Option("--backends", help="Only the backends and their capabilities.")] = False,
) -> None:
    """List backends (with their capabilities), strategies, data sources and models by family."""
    from suite.runners.registry import discover

    entries = discover()
    everything = not models and not sources and not backends
    if everything or backends:
        _print_backends(entries)
    if everything:
        _print_strategies()
    if everything or sources:
        _print_sources()
    if everything or models:
        available = [name for name, entry in sorted(entries.items()) if entry.availability(probe=True)[0]]
        _print_families({backend: list(introspect(["models", backend])) for backend in available})
        _print_shared()


def _print_backends(entries: dict) -> None:
    table = Table(title="backends")
    for column in ("name", "available", "detail"):
        table.add_column(column)
    for name, entry in sorted(entries.items()):
        ok, reason = entry.availability(probe=True)
        table.add_row(name, "yes" if ok else "no", entry.description if ok else reason)
    out_console.print(table)
    out_console.print(_capabilities_table(entries))


def _capabilities_table(entries: dict[str, RunnerEntry]) -> Table:
    """What each backend declares it supports (its :class:`~suite.runners.capabilities.RunnerCapabilities`)."""
    from suite.runners.capabilities import CAPABILITY_COLUMNS

    table = Table(title="backend capabilities")
    for column in ("name", *CAPABILITY_COLUMNS):
        table.add_column(column)
    for name, entry in sorted(entries.items()):
        table.add_row(name, *(escape(text) for text in entry.capabilities.row()))
    return table


def _print_strategies() -> None:
    """Every declared fine-tuning strategy (:mod:`suite.strategies`), built-in or from a plugin, with its keys."""
    from suite.strategies import declarations

    table = Table(title="strategies (keys under [experiments.strategy])")
    for column in ("name", "keys", "what it does"):
        table.add_column(column)
    for declaration in declarations():
        table.add_row(declaration.name, ", ".join(declaration.fields), escape(declaration.summary))
    out_console.print(table)


def _print_sources() -> None:
    from suite.data.registry import list_sources

    table = Table(title="data sources")
    table.add_column("name")
    table.add_column("description")
    for name, description in sorted(list_sources().items()):
        table.add_row(name, description)
    out_console.print(table)


def model_family(name: str) -> str:
    """A model name's family: its leading letters (``resnet50``, ``wide_resnet50_2``, ``keras_resnet50``: resnet)."""
    match = re.match(r"[a-z]+", name.removeprefix("keras_").removeprefix("wide_"))
    return match.group(0) if match else name


def _print_families(models: dict[str, list[str]]) -> None:
    """One row per model family, one column per backend listing that backend's models of the family."""
    families: dict[str, dict[str, list[str]]] = {}
    for backend, names in models.items():
        for name in sorted(names):
            families.setdefault(model_family(name), {}).setdefault(backend, []).append(name)
    count = sum(len(names) for names in models.values())
    table = Table(title=f"models by family ({count}; suite describe MODEL --backend B shows one)")
    table.add_column("family")
    for backend in models:
        table.add_column(backend)
    for family, by_backend in sorted(families.items()):
        table.add_row(family, *(escape(", ".join(by_backend.get(backend, []))) or "–" for backend in models))
    out_console.print(table)


def _print_shared() -> None:
    """The catalog of shared architectures: the same function in every backend (every other model: one backend)."""
    from suite.architectures.catalog import CATALOG

    table = Table(
        title="shared architectures (same groups in every backend; any other model exists in one only)",
        caption="layout: keras_<name> is the network keras.applications builds (its ImageNet weights: Keras' cache), "
        "<name> torchvision's; a plain name the Keras runner lacks (vgg16, mobilenet_v2, ...) is torchvision's only",
    )
    for column in ("name", "layout", "family", "weights", "parity"):
        table.add_column(column)
    for arch in CATALOG:
        weights = "shared weights (converted)" if arch.converts_weights else "shared init"
        parity = "not the same function: " + arch.parity_note if arch.parity_note else "same function"
        layout = {"slots": "-"}.get(arch.layout, arch.layout)
        table.add_row(arch.name, layout, arch.family, weights, escape(parity))
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
    freeze: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            help="Training FLOPs and trainable-state bytes for this freezing: N (the first N groups), "
            "none, all_but_head or comma-separated group names."
        ),
    ] = None,  # fmt: skip
) -> None:
    """Show a model's layer groups with parameter counts and forward GFLOPs per image (``--freeze``: training costs)."""
    strategy = _freeze_strategy(freeze) if freeze is not None else None
    model_json = json.dumps({"name": model})
    shape = [str(input_size), str(input_size), str(channels)]
    rank = [str(lora_rank)] if lora_rank else []
    _exit_unless_backend(backend)
    counts = introspect(["describe", backend, model_json, *shape, str(classes), *rank])
    if "unknown_model" in counts:
        _unknown_model(model, backend, counts["models"])
    costs = _costs_or_exit(counts, strategy)
    table = Table(title=f"{model} ({backend}, {input_size}x{input_size}x{channels}, {classes} classes)")
    for column in ("group", "params", "trainable", "forward GFLOPs"):
        table.add_column(column, justify="right" if column != "group" else "left")
    for group, numbers in counts["groups"].items():
        gflops = costs["group_flops"].get(group, 0) / 1e9
        table.add_row(group, f"{numbers['total']:,}", f"{numbers['trainable']:,}", f"{gflops:.4f}")
    total_gflops = f"{costs['forward_flops'] / 1e9:.4f}"
    table.add_row("total", f"{counts['total']:,}", f"{counts['trainable']:,}", total_gflops, end_section=True)
    out_console.print(table)
    if counts.get("buffers"):
        out_console.print(f"non-trainable buffers (e.g. BatchNorm statistics): {counts['buffers']:,}")
    if counts.get("peft"):
        _print_peft(counts["peft"], counts["total"])
    _print_costs(costs, freeze)


def _freeze_strategy(text: str) -> dict[str, object]:
    """``--freeze``: ``N`` -> ``freeze_blocks = N``; ``none`` / ``all_but_head``; else a list of group names."""
    text = text.strip()
    if text.isdigit():
        return {"freeze_blocks": int(text)}
    if text in ("none", "all_but_head"):
        return {"freeze": text}
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        err_console.print("--freeze: give N, none, all_but_head or comma-separated group names")
        raise typer.Exit(code=2)
    return {"freeze": names}


def _costs_or_exit(counts: dict, strategy: dict[str, object] | None) -> dict:
    """:func:`suite.efficiency.describe.training_costs`; a freezing the model cannot take exits with status 2."""
    from suite.efficiency.describe import training_costs
    from suite.runners.protocol import ModelDescription

    try:
        return training_costs(ModelDescription.from_dict(counts), strategy)
    except ValueError as exc:
        err_console.print(f"--freeze: {exc}", highlight=False, markup=False)
        raise typer.Exit(code=2) from None


def _print_costs(costs: dict, freeze: str | None) -> None:
    """The FLOP convention; with ``--freeze``, training GFLOPs per image and the trainable-state bytes."""
    from suite.efficiency import FLOP_CONVENTION

    out_console.print(f"GFLOPs per image: {FLOP_CONVENTION}", highlight=False)
    if freeze is None:
        return
    out_console.print(
        f"--freeze {freeze}: frozen {', '.join(costs['frozen']) or 'nothing'}; "
        f"training {costs['train_flops'] / 1e9:.4g} GFLOPs per image; "
        f"{costs['trainable_params']:,} trainable parameters, "
        f"trainable state {costs['state_bytes'] / 1e6:.2f} MB (weights + gradients + Adam's 2 moments, float32)",
        highlight=False,
    )


def _exit_unless_backend(backend: str) -> None:
    """One line naming the backends, and exit status 2, for a backend that is unknown or cannot run here."""
    from suite.runners.registry import discover

    entries = discover()
    if backend not in entries:
        _usage_error(f"--backend: unknown backend {backend!r}; backends: {', '.join(sorted(entries))}")
    available, reason = entries[backend].availability()
    if not available:
        _usage_error(f"--backend: {reason}")


def _unknown_model(model: str, backend: str, names: list[str]) -> None:
    """One line naming the backend's models (closest first), and exit status 2: it has no ``model``."""
    import difflib

    close = difflib.get_close_matches(model, names, n=3)
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    _usage_error(f"describe: {backend} has no model {model!r}{hint}; {backend} models: {', '.join(names)}")


def _usage_error(line: str) -> None:
    err_console.print(line, highlight=False, markup=False, soft_wrap=True)
    raise typer.Exit(code=2)


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

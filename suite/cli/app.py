"""The ``suite`` Typer application, its consoles and shared options, and the console-script entry point.

Command modules register on :data:`app` when :mod:`suite.cli` is imported.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Cross-framework transfer-learning benchmarks.")
out_console = Console()
err_console = Console(stderr=True)
PIPED_WIDTH = 10_000
"""Line width when output goes to a file or a pipe: wide enough that no line or table cell is wrapped."""


@app.callback()
def _consoles() -> None:
    """Cross-framework transfer-learning benchmarks."""
    unwrap_when_piped(out_console, err_console)


def unwrap_when_piped(*consoles: Console) -> None:
    """Consoles not writing to a terminal never wrap (rich would wrap at 80 columns): one line stays one line."""
    for console in consoles:
        if not console.is_terminal:
            console.soft_wrap = True
            console.width = PIPED_WIDTH


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

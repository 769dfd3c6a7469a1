"""Asking a backend about models from the ``suite`` command: the answer, or its one line and exit status 1."""

from __future__ import annotations

from typing import Any

import typer

from suite.cli.app import err_console
from suite.preflight.ask import BackendQuestionError, ask_backend


def introspect(args: list[str], extra_env: dict[str, str] | None = None, label: str | None = None) -> Any:
    """The backend's JSON answer to ``args``; on failure print ``LABEL: reason`` and exit with status 1.

    ``label`` names what the user asked about (default: the question, e.g. ``describe torch``).
    """
    try:
        return ask_backend(args, extra_env)
    except BackendQuestionError as exc:
        where = label or " ".join(args[:2])
        err_console.print(f"{where}: {exc}", highlight=False, markup=False, soft_wrap=True)
        raise typer.Exit(code=1) from None

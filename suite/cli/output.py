"""Where ``suite run`` writes: ``--out`` (or ``results/<study name>``) checked and created, or one line and exit 2."""

from __future__ import annotations

from pathlib import Path

import typer

from suite.cli.app import err_console


def out_dir_or_exit(out: str | None, study_name: str) -> Path:
    """The output directory, created; an empty ``--out``, a file, a path under a file or an uncreatable one: exit 2."""
    if out is not None and not out.strip():
        _refuse("--out: empty path; give a directory, e.g. --out results/my-study")
    label = "--out" if out is not None else "output directory"
    directory = Path(out) if out is not None else Path("results") / study_name
    blocker = _file_in_the_way(directory)
    if blocker == directory:
        _refuse(f"{label}: {directory}: is a file, not a directory")
    if blocker is not None:
        _refuse(f"{label}: {directory}: cannot be created, {blocker} is a file")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        _refuse(f"{label}: {directory}: cannot be created ({exc.strerror or exc})")
    return directory


def _file_in_the_way(directory: Path) -> Path | None:
    """The first existing non-directory among ``directory`` and its parents, or None."""
    for path in [*reversed(directory.parents), directory]:
        if path.exists() and not path.is_dir():
            return path
    return None


def _refuse(line: str) -> None:
    err_console.print(line, highlight=False, markup=False, soft_wrap=True)
    raise typer.Exit(code=2)

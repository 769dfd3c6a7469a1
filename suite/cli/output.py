"""Where ``suite`` writes: ``--out`` checked and created, and a failed write (disk full, read-only) as one line.

Both end the command with one line naming the path and the cause; a write failure's traceback goes to
``OUT/suite.log`` (when that can still be written), never to the console.
"""

from __future__ import annotations

import errno
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import NoReturn

import typer

from suite.cli.app import err_console

DEFAULT_OUT = "results"
"""Where a study is written without ``--out``: ``results/<study name>`` under the current directory."""


def out_dir_or_exit(out: str | None, study_name: str) -> Path:
    """The output directory, created; an empty ``--out``, a file, a path under a file or an uncreatable one: exit 2."""
    if out is not None and not out.strip():
        _refuse("--out: empty path; give a directory, e.g. --out results/my-study")
    label = "--out" if out is not None else "output directory"
    directory = Path(out) if out is not None else Path(DEFAULT_OUT) / study_name
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


ERROR_LOG = "suite.log"
_NOT_A_DIRECTORY = {errno.ENOTDIR, errno.EISDIR, errno.EEXIST}


def exit_on_write_failure(exc: OSError, out_dir: Path) -> NoReturn:
    """Print ``cannot write PATH: cause`` and exit: 2 when a path is in the way (not a directory), else 1.

    What was stored before stays intact (every file is written atomically); the traceback goes to OUT/suite.log.
    """
    where = exc.filename or out_dir
    logged = _log_traceback(exc, out_dir)
    hint = f" (details in {logged})" if logged else ""
    line = f"cannot write {where}: {exc.strerror or exc}; the results stored before are intact{hint}"
    err_console.print(line, highlight=False, markup=False, soft_wrap=True)
    raise typer.Exit(code=2 if exc.errno in _NOT_A_DIRECTORY else 1)


def _log_traceback(exc: OSError, out_dir: Path) -> Path | None:
    """Append the traceback to OUT/suite.log; None when even that cannot be written."""
    path = Path(out_dir) / ERROR_LOG
    try:
        with open(path, "a", encoding="utf-8") as log:
            log.write(f"--- {datetime.now(UTC).isoformat(timespec='seconds')}\n")
            log.write("".join(traceback.format_exception(exc)))
    except OSError:
        return None
    return path


def _refuse(line: str) -> NoReturn:
    err_console.print(line, highlight=False, markup=False, soft_wrap=True)
    raise typer.Exit(code=2)

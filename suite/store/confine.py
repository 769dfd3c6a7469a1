"""Nothing outside a study directory is read through a link: where a stored file really is, checked.

A study directory may be copied, shared or unpacked from elsewhere; a ``result.json``, ``history.csv`` or
``plan.json`` that is a symbolic link (or sits in a linked run directory) pointing outside the study would put
another file's content into a report, an export or an artifact. Links that stay inside the study are fine.
"""

from __future__ import annotations

from pathlib import Path

RUNS_DIR = "runs"


def study_root(path: Path) -> Path:
    """The study directory a stored file belongs to: ``OUT`` for ``OUT/runs/<run_id>/<file>``, else its directory."""
    path = Path(path)
    if path.parent.parent.name == RUNS_DIR:
        return path.parent.parent.parent
    return path.parent


def outside_problem(path: Path, root: Path | None = None) -> str | None:
    """Why ``path`` must not be read (it leads outside ``root``, by default :func:`study_root`), or None."""
    path = Path(path)
    root = study_root(path) if root is None else Path(root)
    try:
        target, base = path.resolve(), root.resolve()
    except (OSError, RuntimeError):  # a link loop
        return "a link that cannot be followed (a loop); not read"
    if target == base or base in target.parents:
        return None
    return f"a link to {target}, outside the study directory; not read"


def inside_study(path: Path, root: Path | None = None) -> bool:
    """True when reading ``path`` stays inside the study (see :func:`outside_problem`)."""
    return outside_problem(path, root) is None

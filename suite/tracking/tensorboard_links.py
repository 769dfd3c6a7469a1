"""``OUT/tensorboard/<run name>`` -> ``../runs/<run_id>/tensorboard``: TensorBoard names each run by its name.

The core's epoch loop writes every backend's event files to ``OUT/runs/<run_id>/tensorboard``;
``tensorboard --logdir OUT/tensorboard`` then lists one run per suite run, named by run name.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from suite import store

LINKS_DIR = "tensorboard"
EVENTS_DIR = "tensorboard"
_UNSAFE = re.compile(r"[^\w\-.,=+\[\]]")


def link_name(run_name: str) -> str:
    """A file name for ``run_name``: characters other than letters, digits and ``-.,=+[]`` become ``_``."""
    name = _UNSAFE.sub("_", run_name).lstrip(".")
    return name or "run"


def link_run(out_dir: Path, run_id: str, run_name: str) -> Path | None:
    """Point ``OUT/tensorboard/<run name>`` at the run's event directory; None when it has none.

    A link of the same name left by an earlier run (same name, different spec) is replaced: the
    latest run of a name is the one TensorBoard shows under that name.
    """
    target = store.run_dir(out_dir, run_id) / EVENTS_DIR
    if not target.is_dir():
        return None
    link = out_dir / LINKS_DIR / link_name(run_name)
    relative = Path(os.path.relpath(target, link.parent))
    if link.is_symlink() and Path(os.readlink(link)) == relative:
        return link
    link.parent.mkdir(parents=True, exist_ok=True)
    temporary = link.with_name(f".{link.name}.tmp")
    temporary.unlink(missing_ok=True)
    temporary.symlink_to(relative, target_is_directory=True)
    os.replace(temporary, link)
    return link

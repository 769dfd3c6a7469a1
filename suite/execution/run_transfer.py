"""A run directory as bytes and back: what a Ray task on a node without the driver's filesystem gets and returns.

Files are keyed by their POSIX path relative to the run directory; dot files (the run's lock, unfinished atomic
writes) never travel. Every file is written with :func:`suite.store.write_atomic`, in an order that keeps the
directory readable at any instant: a resume state's files before its pointer, ``result.json`` last.
"""

from __future__ import annotations

from pathlib import Path

from suite import store
from suite.execution.launch import LOG_FILE
from suite.training.resume import POINTER_FILE, RESUME_DIR

RESUME_POINTER = (RESUME_DIR / POINTER_FILE).as_posix()
"""The resume state's pointer (written after the state it names, replaced atomically), from the run directory."""

Files = dict[str, bytes]


def pack_run(directory: Path) -> Files:
    """What a node needs to rebuild the run: ``spec.toml``, the result header, the log so far, the resume state."""
    files = {name: (directory / name).read_bytes() for name in (store.SPEC_FILE, store.RESULT_FILE)}
    if (directory / LOG_FILE).is_file():
        files[LOG_FILE] = (directory / LOG_FILE).read_bytes()
    if (directory / RESUME_DIR).is_dir():
        files.update(read_tree(directory, directory / RESUME_DIR))
    return files


def read_tree(root: Path, start: Path | None = None) -> Files:
    """Every regular file under ``start`` (default: ``root``) but dot files, keyed by its path from ``root``."""
    files = {}
    for path in sorted((start or root).rglob("*")):
        relative = path.relative_to(root)
        if path.is_file() and not path.is_symlink() and not any(part.startswith(".") for part in relative.parts):
            files[relative.as_posix()] = path.read_bytes()
    return files


def write_files(directory: Path, files: Files) -> None:
    """Write ``files`` into ``directory``: deeper paths first, then the resume pointer, ``result.json`` last."""
    order = sorted(files, key=lambda name: (name == store.RESULT_FILE, name == RESUME_POINTER, -name.count("/"), name))
    for name in order:
        store.write_atomic(directory / _relative(name), files[name])


def write_back(directory: Path, files: Files, sent: Files) -> None:
    """The node's run directory after the worker, written over the driver's: what the worker removed goes too.

    Sent files missing from ``files`` and resume-state files not in ``files`` are deleted (a completed run
    clears its resume state, and with it an empty ``checkpoints/``).
    """
    write_files(directory, files)
    for name in sorted(set(sent) - set(files)):
        (directory / _relative(name)).unlink(missing_ok=True)
    _drop_stale_resume(directory, set(files))
    for folder in (directory / RESUME_DIR, (directory / RESUME_DIR).parent):
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()


def resume_snapshot(directory: Path, last_pointer: bytes | None) -> tuple[bytes, Files] | None:
    """The resume state when its pointer changed since ``last_pointer``: (pointer bytes, files), else None.

    None too when the worker replaced the state while it was being read (the next call takes the new one).
    """
    try:
        pointer = (directory / RESUME_POINTER).read_bytes()
        if pointer == last_pointer:
            return None
        files = read_tree(directory, directory / RESUME_DIR)
    except OSError:
        return None
    return (pointer, files) if files.get(RESUME_POINTER) == pointer else None


def mirror_resume(directory: Path, files: Files) -> None:
    """Make the driver's resume state the node's: the new state, then its pointer, then drop the older entries."""
    write_files(directory, files)
    _drop_stale_resume(directory, set(files))


def _drop_stale_resume(directory: Path, keep: set[str]) -> None:
    root = directory / RESUME_DIR
    if not root.is_dir():
        return
    for path in sorted(root.rglob("*"), key=lambda item: -len(item.parts)):  # a folder after its content
        if path.is_dir() and not path.is_symlink():
            if not any(path.iterdir()):
                path.rmdir()
        elif path.relative_to(directory).as_posix() not in keep and not path.name.startswith("."):
            path.unlink(missing_ok=True)


def _relative(name: str) -> Path:
    path = Path(name)
    if path.is_absolute() or ".." in path.parts:
        raise ValueError(f"a run file outside its run directory: {name!r}")
    return path

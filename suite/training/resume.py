"""The resume state of a run: written after every epoch, atomically, so a killed run continues where it was.

Layout under ``RUN_DIR/checkpoints/resume``::

    resume.json              the pointer: {"directory", "spec_hash", "epoch", "format"}
    epoch-0003-<token>/      one complete state
        core.json            the loop's state: epoch, phase, history, controllers, meter, python RNG, ...
        core.npz             numpy's global RNG state and the epoch orders
        session/             what the backend's ``TrainingSession.save_state`` wrote (weights, optimizer, RNG)

A save writes a new directory, fsyncs every file and directory in it, then atomically replaces the pointer,
then deletes every other entry. A kill at any instant leaves the pointer naming a complete directory (the old
one or the new one), or no pointer at all. A pointer whose directory is missing (a torn state) or whose spec
hash differs from ``spec.toml`` is ignored with a message, and the next save overwrites it. A state whose files
cannot be put back (a pickle, garbage, another model's shapes) raises :class:`ResumeStateDamaged` while the run
continues from it; the worker then discards it with a warning and trains the run from scratch.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from suite import store
from suite.spec.serialize import run_id, spec_from_toml

RESUME_DIR = Path("checkpoints") / "resume"
POINTER_FILE = "resume.json"
CORE_FILE = "core.json"
CORE_ARRAYS = "core.npz"
SESSION_DIR = "session"
FORMAT = 1


class ResumeStateDamaged(RuntimeError):
    """A resume state that cannot be put back (unreadable, a pickle, another shape): discard it and start afresh."""


@dataclass
class ResumePoint:
    """A loaded resume state: its directory, the loop's plain-data state and its arrays."""

    directory: Path
    core: dict[str, Any]
    arrays: dict[str, np.ndarray]

    @property
    def epoch(self) -> int:
        """The last epoch the state completed (0-based); training continues with the next one."""
        return int(self.core["epoch"])

    @property
    def session_dir(self) -> Path:
        """Where the session's own state lies (the argument of ``TrainingSession.load_state``)."""
        return self.directory / SESSION_DIR


def spec_hash(run_dir: Path) -> str:
    """The hash of the run's ``spec.toml`` a resume state must match: the run id's (SHA-256 of the canonical spec).

    Like the run id it leaves out the execution-only keys (``training.time_limit``, ``resumable``,
    ``resources``): a run that timed out continues under a longer limit; any other change starts afresh.
    """
    return run_id(spec_from_toml((run_dir / store.SPEC_FILE).read_text(encoding="utf-8")))


class ResumeStore:
    """Reads and writes the resume state of one run directory for one spec hash."""

    def __init__(self, run_dir: Path, digest: str) -> None:
        self.root = run_dir / RESUME_DIR
        self.digest = digest

    @classmethod
    def for_run(cls, run_dir: Path) -> ResumeStore:
        """The store of ``run_dir``, keyed by the hash of its ``spec.toml``."""
        return cls(run_dir, spec_hash(run_dir))

    def pointer(self) -> dict[str, Any] | None:
        """The pointer file's content, or None when there is none or it cannot be read."""
        try:
            data = json.loads((self.root / POINTER_FILE).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            return None
        return data if isinstance(data, dict) else None

    def load(self, message: Callable[[str], None]) -> ResumePoint | None:
        """The state to continue from, or None (no state, another spec's, or torn: ``message`` says which)."""
        pointer = self.pointer()
        if pointer is None:
            return None
        if pointer.get("spec_hash") != self.digest or pointer.get("format") != FORMAT:
            message("resume state ignored: it belongs to another spec (it will be overwritten)")
            return None
        directory = self.root / str(pointer.get("directory", ""))
        try:
            core = json.loads((directory / CORE_FILE).read_text(encoding="utf-8"))
            with np.load(directory / CORE_ARRAYS) as loaded:
                arrays = {key: loaded[key] for key in loaded.files}
        except Exception as exc:  # noqa: BLE001 - whatever is wrong with the files, the run starts afresh
            kind = type(exc).__name__
            message(f"resume state ignored: {directory.name} is incomplete or unreadable ({kind}); starting afresh")
            return None
        return ResumePoint(directory, core, arrays)

    def save(self, core: dict[str, Any], arrays: dict[str, np.ndarray], write_session: Callable[[Path], None]) -> Path:
        """Write a complete new state, make it durable, point at it, then delete every older entry."""
        self.root.mkdir(parents=True, exist_ok=True)
        name = f"epoch-{int(core['epoch']):04d}-{uuid.uuid4().hex[:8]}"
        directory = self.root / name
        directory.mkdir()
        (directory / SESSION_DIR).mkdir()
        write_session(directory / SESSION_DIR)
        np.savez(directory / CORE_ARRAYS, **arrays)
        (directory / CORE_FILE).write_text(json.dumps(core, default=_plain), encoding="utf-8")
        _fsync_tree(directory)
        _fsync_path(self.root)
        pointer = {"directory": name, "spec_hash": self.digest, "epoch": int(core["epoch"]), "format": FORMAT}
        store.write_json(self.root / POINTER_FILE, pointer)
        _fsync_path(self.root)
        self._delete_all_but(name)
        return directory

    def clear(self) -> None:
        """Delete the whole resume state (the run completed)."""
        _remove(self.root)

    def _delete_all_but(self, keep: str) -> None:
        for entry in self.root.iterdir():
            if entry.name in (keep, POINTER_FILE):
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)


def clear(run_dir: Path) -> None:
    """Delete ``run_dir``'s resume state, whatever spec it belongs to."""
    _remove(run_dir / RESUME_DIR)


def _remove(root: Path) -> None:
    """Delete ``root`` and its parent ``checkpoints`` when nothing else is left there."""
    shutil.rmtree(root, ignore_errors=True)
    try:
        root.parent.rmdir()
    except OSError:  # not empty: best/last checkpoints stay
        pass


def rng_state() -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Python's and numpy's global RNG states, as (JSON-able part, arrays)."""
    version, internal, gauss = random.getstate()
    kind, keys, position, has_gauss, cached = np.random.get_state()
    plain = {"python": [version, list(internal), gauss], "numpy": [kind, int(position), int(has_gauss), cached]}
    return plain, {"numpy_keys": np.asarray(keys)}


def set_rng_state(plain: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    """Put back what :func:`rng_state` returned."""
    version, internal, gauss = plain["python"]
    random.setstate((version, tuple(internal), gauss))
    kind, position, has_gauss, cached = plain["numpy"]
    np.random.set_state((kind, arrays["numpy_keys"], position, has_gauss, cached))


def _plain(value: Any) -> Any:
    """Turn numpy scalars in the loop's state (e.g. parameter counts) as Python numbers."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot store {type(value).__name__} in a resume state")


def _fsync_tree(directory: Path) -> None:
    for folder, _, files in os.walk(directory):
        for name in files:
            _fsync_path(Path(folder) / name)
        _fsync_path(Path(folder))


def _fsync_path(path: Path) -> None:
    """Flush one file or directory to disk (directories: where the OS allows opening them)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)

"""Runner registry: backends are found by name, listed with whether they can run here.

A backend package registers itself with :func:`register_runner` at import time; its package
``__init__`` must not import its framework, so listing never loads torch or TensorFlow.
Backends shipped with the suite are discovered through the ``suite.runners`` entry-point group.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass

from suite.runners.protocol import Runner

ENTRY_POINT_GROUP = "suite.runners"
_BUILTIN_BACKEND_MODULES = {"torch": "torch_impl", "keras": "keras_impl"}


@dataclass(frozen=True)
class RunnerEntry:
    """A registered backend: its name, factory and the modules it needs."""

    name: str
    factory: Callable[[], Runner]
    requires: tuple[str, ...]
    description: str

    def availability(self) -> tuple[bool, str]:
        """(available, reason): checks that every required module can be found, without importing it."""
        missing = [module for module in self.requires if importlib.util.find_spec(module) is None]
        if missing:
            return False, f"missing module(s): {', '.join(missing)} (pip install the suite's dependencies)"
        return True, "ok"


class BackendUnavailableError(RuntimeError):
    """The backend, or the framework it is configured to use, is not installed; the message says what to install."""


_RUNNERS: dict[str, RunnerEntry] = {}


def register_runner(
    name: str, *, requires: tuple[str, ...], description: str = ""
) -> Callable[[Callable[[], Runner]], Callable[[], Runner]]:
    """Decorator registering a runner factory under ``name``; a duplicate name is an error."""

    def decorate(factory: Callable[[], Runner]) -> Callable[[], Runner]:
        if name in _RUNNERS and _RUNNERS[name].factory is not factory:
            raise ValueError(f"runner {name!r} is already registered")
        _RUNNERS[name] = RunnerEntry(name, factory, requires, description or (factory.__doc__ or "").strip())
        return factory

    return decorate


def discover() -> dict[str, RunnerEntry]:
    """Import every backend package (cheap: no framework import) and return the registry."""
    modules = dict(_BUILTIN_BACKEND_MODULES)
    for entry_point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        modules[entry_point.name] = entry_point.value
    for module in modules.values():
        try:
            importlib.import_module(module)
        except ImportError:
            continue
    return dict(_RUNNERS)


def get_runner_entry(name: str) -> RunnerEntry:
    """The entry for ``name``; KeyError naming the known backends otherwise."""
    entries = discover()
    if name not in entries:
        raise KeyError(f"unknown backend {name!r}; known: {', '.join(sorted(entries)) or 'none'}")
    return entries[name]


def create_runner(name: str) -> Runner:
    """Instantiate the runner for ``name`` or raise BackendUnavailableError saying why it cannot run here."""
    entry = get_runner_entry(name)
    available, reason = entry.availability()
    if not available:
        raise BackendUnavailableError(f"backend {name!r} is unavailable: {reason}")
    return entry.factory()

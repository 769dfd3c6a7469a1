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
from dataclasses import dataclass, field

from suite.runners.capabilities import RunnerCapabilities
from suite.runners.import_probe import import_here, import_problem
from suite.runners.protocol import Runner

ENTRY_POINT_GROUP = "suite.runners"


def _no_environment(engine: str | None) -> dict[str, str]:
    return {}


@dataclass(frozen=True)
class RunnerEntry:
    """A registered backend: its name, factory, the modules it needs and its declared capabilities.

    ``capabilities`` (:class:`~suite.runners.capabilities.RunnerCapabilities`) says what it supports,
    its engines among them; ``child_environment(engine)`` gives the variables a run's process needs before
    the framework is imported; ``extra`` is the pip extra that installs it.
    """

    name: str
    factory: Callable[[], Runner]
    requires: tuple[str, ...]
    description: str
    capabilities: RunnerCapabilities = field(default_factory=RunnerCapabilities)
    child_environment: Callable[[str | None], dict[str, str]] = _no_environment
    extra: str | None = None

    @property
    def engines(self) -> dict[str, tuple[str, ...]]:
        """Engine name (e.g. Keras' ``tensorflow``/``jax``/``torch``) -> the modules it needs."""
        return self.capabilities.engines

    @property
    def default_engine(self) -> str | None:
        """The engine used when a spec names none."""
        return self.capabilities.default_engine

    def resolve_engine(self, engine: str | None) -> str | None:
        """The engine a run uses: ``engine``, else the default (None for a backend without engines)."""
        return engine if engine is not None else self.default_engine

    def needed_modules(self, engine: str | None = None) -> tuple[str, ...]:
        """The modules a run on ``engine`` (resolved) imports: the backend's and the engine's."""
        return (*self.requires, *self.engines.get(self.resolve_engine(engine) or "", ()))

    def availability(self, engine: str | None = None, *, probe: bool = False) -> tuple[bool, str]:
        """(available, reason): every required module can be found; with ``probe``, also imports (in a child).

        Without ``probe`` nothing is imported. The probe's answer is cached for the command
        (:func:`suite.runners.import_probe.import_problem`).
        """
        engine = self.resolve_engine(engine)
        needed = self.needed_modules(engine)
        missing = [module for module in needed if importlib.util.find_spec(module) is None]
        if missing:
            install = f'pip install "tlbench[{self.extra}]"' if self.extra else "pip install " + " ".join(missing)
            if engine and any(module in self.engines.get(engine, ()) for module in missing):
                install = f'pip install "tlbench[{engine}]"'
            return False, f"missing module(s): {', '.join(missing)} ({install})"
        if probe:
            problem = import_problem(needed, self.child_environment(engine))
            if problem:
                return False, f"{problem} (reinstall it)"
        return True, "ok"


class BackendUnavailableError(RuntimeError):
    """The backend, or the framework it is configured to use, is not installed; the message says what to install."""


_RUNNERS: dict[str, RunnerEntry] = {}


def register_runner(
    name: str,
    *,
    requires: tuple[str, ...],
    capabilities: RunnerCapabilities,
    description: str = "",
    child_environment: Callable[[str | None], dict[str, str]] = _no_environment,
    extra: str | None = None,
) -> Callable[[Callable[[], Runner]], Callable[[], Runner]]:
    """Decorator registering a runner factory under ``name`` with its capabilities; a duplicate name is an error."""

    def decorate(factory: Callable[[], Runner]) -> Callable[[], Runner]:
        if name in _RUNNERS and _RUNNERS[name].factory is not factory:
            raise ValueError(f"runner {name!r} is already registered")
        _RUNNERS[name] = RunnerEntry(
            name,
            factory,
            requires,
            description or (factory.__doc__ or "").strip(),
            capabilities,
            child_environment,
            extra,
        )
        return factory

    return decorate


def discover() -> dict[str, RunnerEntry]:
    """Import every backend package (cheap: no framework import) and return the registry."""
    modules: dict[str, str] = {}
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


def create_runner(name: str, engine: str | None = None) -> Runner:
    """Instantiate the runner for ``name`` or raise BackendUnavailableError saying why it cannot run here.

    Imports the backend's framework (in this process: a worker or a backend's child), so a broken install is
    ``unavailable`` with the import's reason, not a failed run.
    """
    entry = get_runner_entry(name)
    available, reason = entry.availability(engine)
    problem = None if not available else import_here(entry.needed_modules(engine))
    if not available or problem:
        label = f"{name}/{entry.resolve_engine(engine)}" if entry.resolve_engine(engine) else name
        reason = f"{problem} (reinstall it)" if problem else reason
        raise BackendUnavailableError(f"backend {label!r} is unavailable: {reason}")
    return entry.factory()

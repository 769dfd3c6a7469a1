"""Whether a backend's framework really imports here: asked of a child process once per command, then remembered.

Finding a module (``importlib.util.find_spec``) says it is installed, not that it works: a broken install
(a missing shared library, an ABI mismatch, a half-upgraded package) raises only when imported. Importing it in
the ``suite`` process would load the framework there, so a child does it (:func:`import_problem`); a worker,
which imports its framework anyway, checks in-process (:func:`import_here`).
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys

PROBE_TIMEOUT_SECONDS = 300
"""How long importing a backend's modules in the child may take (TensorFlow on a slow disk takes a while)."""

_ANSWERS: dict[tuple[tuple[str, ...], tuple[tuple[str, str], ...]], str | None] = {}


def import_problem(modules: tuple[str, ...], env: dict[str, str]) -> str | None:
    """None when every module imports in a child process with ``env`` added; else one line saying which and why.

    The answer is cached for the life of this process (one child per backend and engine per command).
    """
    key = (modules, tuple(sorted(env.items())))
    if key not in _ANSWERS:
        _ANSWERS[key] = _ask_child(modules, env) if modules else None
    return _ANSWERS[key]


def import_here(modules: tuple[str, ...]) -> str | None:
    """None when every module imports in this process; else the one line :func:`import_problem` would give."""
    for module in modules:
        try:
            importlib.import_module(module)
        except Exception as exc:  # noqa: BLE001 - any failure means the framework cannot be used here
            return f"importing {module} fails: {_first_line(f'{type(exc).__name__}: {exc}')}"
    return None


_CHILD = """
import sys
from suite.runners.import_probe import import_here
problem = import_here(tuple(sys.argv[1:]))
print(problem or "ok")
"""


def _ask_child(modules: tuple[str, ...], env: dict[str, str]) -> str | None:
    from suite.lifeline import run_tied

    child_env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "OMP_WAIT_POLICY": "PASSIVE", **env}
    try:
        completed = run_tied(
            [sys.executable, "-c", _CHILD, *modules],
            child_env,
            capture_output=True,
            text=True,
            timeout=PROBE_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return f"importing {', '.join(modules)} took over {PROBE_TIMEOUT_SECONDS} s"
    answer = (completed.stdout.strip().splitlines() or [""])[-1]
    if completed.returncode == 0 and answer == "ok":
        return None
    if answer.startswith("importing "):
        return answer
    reason = (completed.stderr.strip().splitlines() or [f"exit status {completed.returncode}"])[-1]
    return f"importing {', '.join(modules)} fails: {_first_line(reason)}"


def _first_line(text: str) -> str:
    return (text.strip().splitlines() or [""])[0][:300]

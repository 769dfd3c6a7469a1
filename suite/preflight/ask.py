"""Asking a backend a question from a framework-free process: one child process, one JSON line back."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from suite.lifeline import run_tied


class BackendQuestionError(RuntimeError):
    """The child process failed or answered nothing; the text is its last stderr line."""


def ask_backend(args: list[str], extra_env: dict[str, str] | None = None) -> Any:
    """Run ``python -m suite.preflight.introspect ARGS`` and return its last stdout line, parsed as JSON.

    ``extra_env`` is the backend's child environment (engine, threads). Raises :class:`BackendQuestionError`
    with the child's last stderr line when it exits non-zero or prints nothing.
    """
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "OMP_WAIT_POLICY": "PASSIVE", **(extra_env or {})}
    command = [sys.executable, "-m", "suite.preflight.introspect", *args]
    completed = run_tied(command, env, capture_output=True, text=True, check=False)
    lines = completed.stdout.strip().splitlines()
    if completed.returncode != 0 or not lines:
        raise BackendQuestionError((completed.stderr.strip().splitlines() or ["no output"])[-1])
    return json.loads(lines[-1])

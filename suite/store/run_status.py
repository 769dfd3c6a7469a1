"""A stored run's honest status and the one line that says why it is not completed.

A ``running`` result whose lock nobody holds was left by an executor that is gone: it reads as
``interrupted``. The status names and meanings come from :mod:`suite.store.statuses`.
"""

from __future__ import annotations

import math
import signal
from pathlib import Path
from typing import Any

from suite.execution.run_lock import is_claimed
from suite.store import statuses


def observed_status(directory: Path, result: dict[str, Any] | None) -> str:
    """The status to show for the run in ``directory``: the stored one, ``running`` made honest.

    ``running`` (or no result at all) stays ``running`` only while a live process holds the run's lock;
    otherwise the run is ``interrupted``.
    """
    status = (result or {}).get("status", statuses.RUNNING)
    if status != statuses.RUNNING:
        return str(status)
    return statuses.RUNNING if is_claimed(directory) else statuses.INTERRUPTED


def whole_reason(result: dict[str, Any]) -> str:
    """Why a run did not complete, whole, for the terminal: every line of the exception's message.

    A failed run's ``error`` is a traceback tail, so its ``reason`` (the exception and its full message,
    e.g. which dataset files were sought where) is shown; without one, the tail's last line. The other
    statuses store their message itself in ``error``.
    """
    if result.get("reason"):
        return str(result["reason"]).strip()
    error = str(result.get("error") or "").strip()
    if not error:
        return str(result.get("status") or "unknown error")
    return error.splitlines()[-1] if result.get("status") == statuses.FAILED else error


def status_reason(result: dict[str, Any], status: str) -> str:
    """Why a run is not completed, in one line (empty for a completed run).

    The worker's own message (the last line of ``error``) comes first; what it leaves out is taken from
    ``diverged_at_epoch`` / ``timeout_at_epoch``, ``signal`` (killed: the number, or a name) and
    ``time_limit`` or the spec's ``training.time_limit``.
    """
    if status == statuses.COMPLETED:
        return ""
    if status == statuses.INTERRUPTED:
        return "left running by an executor that is gone; suite run resumes it"
    if status == statuses.RUNNING:
        return "an executor holds its lock and is training it now"
    line = last_error_line(result.get("error"))
    if status == statuses.KILLED and result.get("signal") and "signal" not in line:
        line = f"killed by signal {_signal_name(result['signal'])}" + (f"; {line}" if line else "")
    if status == statuses.TIMEOUT and not line:
        limit = result.get("time_limit") or ((result.get("spec") or {}).get("training") or {}).get("time_limit")
        line = f"training.time_limit of {float(limit):g} s reached" if _is_number(limit) else ""
    epoch = _whole(result.get(f"{status}_at_epoch"))
    if status in (statuses.DIVERGED, statuses.TIMEOUT) and epoch is not None and f"epoch {epoch}" not in line:
        line = f"{line or statuses.MEANINGS[status]} (epoch {epoch})"
    return line or statuses.MEANINGS.get(status, f"status {status!r}")


def last_error_line(error: Any) -> str:
    """The last non-empty line of a traceback (the exception message); empty when there is none."""
    if not error:
        return ""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _whole(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return int(value) if value == int(value) else None


def _signal_name(value: Any) -> str:
    """``9 (SIGKILL)`` from 9 (or -9, a Popen return code); a stored name as it is."""
    number = _whole(value)
    if number is None:
        return str(value)
    try:
        return f"{abs(number)} ({signal.Signals(abs(number)).name})"
    except ValueError:
        return str(abs(number))

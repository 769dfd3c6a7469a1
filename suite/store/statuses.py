"""The statuses a run can end in, declared once: what each means, which enter tables, which are retried."""

from __future__ import annotations

COMPLETED = "completed"
FAILED = "failed"
DIVERGED = "diverged"
TIMEOUT = "timeout"
KILLED = "killed"
UNAVAILABLE = "unavailable"
INTERRUPTED = "interrupted"
RUNNING = "running"
PRUNED = "pruned"

MEANINGS: dict[str, str] = {
    COMPLETED: "trained and tested; the only status that enters the leaderboard and the tables",
    FAILED: "an error stopped the run (result.json holds its traceback tail)",
    DIVERGED: "non-finite loss or weights; stopped at once, the epoch recorded",
    TIMEOUT: "training.time_limit was reached",
    KILLED: "the worker was killed by a signal (out of memory, kill -9); the signal is recorded",
    UNAVAILABLE: "the run's backend or engine is not installed here",
    PRUNED: "a tuning trial the pruner stopped (its validation metric lagged the other trials); never retried",
    INTERRUPTED: "left 'running' by an executor that is gone (no live lock); suite run resumes it",
    RUNNING: "an executor holds the run's lock and is training it now",
}

FINAL = (COMPLETED, FAILED, DIVERGED, TIMEOUT, KILLED, UNAVAILABLE, PRUNED)
RETRIED_ON_REQUEST = (FAILED, DIVERGED, TIMEOUT, KILLED)
"""Rerun only with ``suite run --retry-failed``; a plain rerun leaves them as they are."""
RESUMED = (INTERRUPTED, UNAVAILABLE)
"""Rerun by every ``suite run``: interrupted runs continue from their last epoch."""

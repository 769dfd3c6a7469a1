"""How far a study has come and how long it has left: runs done / total, elapsed time, an estimate of the rest.

:func:`estimate_seconds_left` is the estimate, a pure function: a pending run is expected to take as long as the
finished runs of its configuration and epoch count took on average, else its epochs times the measured seconds
of one epoch; the sum is shared by the ``jobs`` runs at once. :class:`StudyClock` gathers what it needs from the
executor's events (in the ``suite`` process, thread-safe through its caller, :class:`~suite.execution.display.Display`).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Mapping, Sequence
from statistics import fmean
from typing import Any

RunKey = tuple[str, int]
"""(configuration name, planned epochs): runs that should take about as long as each other."""


def estimate_seconds_left(
    pending: Sequence[RunKey | None],
    finished: Mapping[RunKey, Sequence[float]],
    epoch_seconds: float | None,
    jobs: int = 1,
    run_overhead: float = 0.0,
) -> float | None:
    """Seconds the ``pending`` runs still need, ``jobs`` at a time; None when nothing measured can say.

    A run's own estimate: the mean wall seconds of the ``finished`` runs with its key; else its epochs times
    ``epoch_seconds`` plus ``run_overhead`` (what a finished run spent outside its epochs: start, test,
    measurements); a run whose key is unknown (None: a tuning trial not planned by name) takes the mean of
    every finished run. ``jobs`` runs share the sum, never more runs at once than are pending.
    """
    if not pending:
        return 0.0
    every = [seconds for durations in finished.values() for seconds in durations]
    total = 0.0
    for key in pending:
        if key is not None and finished.get(key):
            total += fmean(finished[key])
        elif key is not None and epoch_seconds is not None:
            total += key[1] * epoch_seconds + run_overhead
        elif key is None and every:
            total += fmean(every)
        else:
            return None
    return total / max(1, min(jobs, len(pending)))


def clock_text(seconds: float) -> str:
    """``1:02:05`` for an hour and more, else ``2:05``."""
    whole = int(round(max(seconds, 0.0)))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def result_key(result: Mapping[str, Any]) -> RunKey | None:
    """The (configuration, epochs) of a run from its result.json header; None when it does not say."""
    training = (result.get("spec") or {}).get("training") or {}
    config, epochs = result.get("config_name"), training.get("epochs")
    return (config, int(epochs)) if isinstance(config, str) and isinstance(epochs, int) else None


class StudyClock:
    """The study's runs done, elapsed time and estimate, from runs started, finished and epochs ended."""

    def __init__(self, total: int, planned: Sequence[RunKey] = (), jobs: int = 1) -> None:
        self.total = total
        self.jobs = max(1, jobs)
        self.done = 0
        self._planned = Counter(planned)
        self._started_at = time.monotonic()
        self._runs: dict[str, float] = {}  # name -> when it started
        self._epoch_marks: dict[str, float] = {}  # name -> when its last epoch began or ended
        self._epochs: list[float] = []
        self._finished: dict[RunKey, list[float]] = {}
        self._overheads: list[float] = []  # wall seconds of finished runs outside their epochs

    def started(self, name: str) -> None:
        """Run ``name`` starts now."""
        self._runs[name] = self._epoch_marks[name] = time.monotonic()

    def epoch_event(self, name: str | None, kind: str | None) -> None:
        """An ``epoch_start`` or ``epoch_end`` event of run ``name``: epoch seconds are measured between them."""
        if name is None or kind not in {"epoch_start", "epoch_end"}:
            return
        now = time.monotonic()
        if kind == "epoch_end" and name in self._epoch_marks:
            self._epochs.append(now - self._epoch_marks[name])
        self._epoch_marks[name] = now

    def finished(self, name: str, key: RunKey | None, completed: bool, train_seconds: float | None = None) -> None:
        """Run ``name`` ended (``completed``: its time counts for the estimate of its configuration).

        ``train_seconds``: its epochs' seconds, so that what the run spent outside them is known.
        """
        self.done += 1
        began = self._runs.pop(name, None)
        self._epoch_marks.pop(name, None)
        if key is not None and self._planned[key] > 0:
            self._planned[key] -= 1
        if completed and key is not None and began is not None:
            seconds = time.monotonic() - began
            self._finished.setdefault(key, []).append(seconds)
            if train_seconds is not None:
                self._overheads.append(max(seconds - train_seconds, 0.0))

    def skipped(self, key: RunKey | None) -> None:
        """A run is done without running here (completed before, failed before, running elsewhere)."""
        self.done += 1
        if key is not None and self._planned[key] > 0:
            self._planned[key] -= 1

    def line(self) -> str:
        """``3/12 runs done, 1:05 elapsed, about 2:10 left`` (``time left unknown`` before anything is measured)."""
        elapsed = time.monotonic() - self._started_at
        remaining = max(self.total - self.done, 0)
        known = list(self._planned.elements())[:remaining]
        pending: list[RunKey | None] = [*known, *([None] * (remaining - len(known)))]
        epoch = fmean(self._epochs) if self._epochs else None
        overhead = fmean(self._overheads) if self._overheads else 0.0
        left = estimate_seconds_left(pending, self._finished, epoch, self.jobs, overhead)
        estimate = "time left unknown" if left is None else f"about {clock_text(left)} left"
        return f"{self.done}/{self.total} runs done, {clock_text(elapsed)} elapsed, {estimate}"

"""Terminal rendering of a study: one line per run, a progress bar per epoch (silent with quiet=True).

With several runs at once (``--jobs N``) there is no bar: every line names its run. After each run a progress
line says how many runs are done, the time elapsed and the time left (:mod:`suite.execution.eta`). Thread-safe.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from suite.architectures.parity_notes import BATCHNORM_VARIANCE
from suite.execution.eta import RunKey, StudyClock, result_key
from suite.runners.protocol import epoch_number
from suite.store.run_status import whole_reason

CROSS_FRAMEWORK_NOTES = (BATCHNORM_VARIANCE,)
"""Plan notes about how frameworks differ: said where a study compares backends, never in a one-backend study."""


class Display:
    """Renders executor and worker events; every method is a no-op when ``quiet``."""

    def __init__(
        self,
        quiet: bool,
        total_runs: int,
        concurrent: bool = False,
        console: Console | None = None,
        backends: int = 1,
        planned: Mapping[str, RunKey] | None = None,
        jobs: int = 1,
    ) -> None:
        """Render a study of ``total_runs`` runs, ``jobs`` at a time.

        ``planned``: run name -> (configuration, epochs) of the runs the study plans by name (the estimate's input).
        """
        self.quiet = quiet
        self.total_runs = total_runs
        self.concurrent = concurrent
        self.backends = backends  # how many backends the study compares: cross-framework notes need two
        self._noted: set[str] = set()
        self._guard = threading.RLock()
        self._begun = 0  # runs started or skipped: the counter [k/N] numbers them in that order
        self._console = console or Console(stderr=True)
        self._progress: Progress | None = None
        self._task: Any = None
        self._planned = dict(planned or {})
        self.clock = StudyClock(total_runs, list(self._planned.values()), jobs)

    def __enter__(self) -> Display:
        if not self.quiet and not self.concurrent:
            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=self._console,
                transient=True,
            )
            self._progress.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._progress is not None:
            self._progress.stop()

    def _print(self, text: str) -> None:
        if not self.quiet:
            with self._guard:
                self._console.print(text, highlight=False)

    def run_skipped(self, name: str, reason: str = "already completed") -> None:
        """A run is not executed by this executor: completed before, failed before, or running elsewhere."""
        with self._guard:
            self._begun += 1
            self.clock.skipped(self._planned.get(name))
            self._print(escape(f"[{self._begun}/{self.total_runs}] {name}: {reason}, skipped"))
            if self.clock.done >= self.total_runs:
                self._print(escape(f"    {self.clock.line()}"))

    def run_started(self, name: str) -> None:
        """A worker process is starting for ``name``."""
        with self._guard:
            self._begun += 1
            self.clock.started(name)
            self._print(escape(f"[{self._begun}/{self.total_runs}] {name}") + ": starting")

    def run_finished(self, name: str, status: str, result: dict[str, Any]) -> None:
        """The worker ended; show its headline numbers or its error, then the study's progress line."""
        with self._guard:
            key, train = result_key(result) or self._planned.get(name), result.get("timing", {}).get("train_seconds")
            self.clock.finished(name, key, status == "completed", train if isinstance(train, (int, float)) else None)
            self._finished(name, status, result)
            self._print(escape(f"    {self.clock.line()}"))

    def _finished(self, name: str, status: str, result: dict[str, Any]) -> None:
        prefix = escape(f"    {name}: ") if self.concurrent else "    "
        self._reset_task()
        resumed = result.get("resumed_from_epoch")
        if resumed is not None:
            self._print(f"{prefix}resumed from epoch {resumed}")
        if status == "completed":
            metrics, timing = result.get("metrics", {}), result.get("timing", {})
            self._print(
                f"{prefix}done: test accuracy {metrics.get('test_accuracy', float('nan')):.4f}, "
                f"macro F1 {metrics.get('test_macro_f1', float('nan')):.4f}, "
                f"{timing.get('train_seconds', 0.0):.1f} s training"
            )
        else:
            self._print(f"{prefix}[red]{status.upper()}[/red]: {escape(whole_reason({**result, 'status': status}))}")

    def handle_event(self, event: dict[str, Any], name: str | None = None) -> None:
        """Render one progress event from the worker of run ``name``.

        A cross-framework note (:data:`CROSS_FRAMEWORK_NOTES`) is shown once, and only when the study runs
        several backends.
        """
        with self._guard:
            self.clock.epoch_event(name, event.get("event"))
            text = event.get("text")
            if event.get("event") == "message" and text in CROSS_FRAMEWORK_NOTES:
                if self.backends < 2 or text in self._noted:
                    return
                self._noted.add(text)
            if self.concurrent:
                self._concurrent_event(event, name)
            elif self._progress is not None:
                self._event(event)

    def _concurrent_event(self, event: dict[str, Any], name: str | None) -> None:
        prefix = escape(f"    {name}: ") if name else "    "
        kind = event.get("event")
        if kind == "epoch_end":
            self._print(f"{prefix}epoch {epoch_number(event['epoch'])}: {_format_metrics(event.get('metrics', {}))}")
        elif kind == "message":
            self._print(prefix + escape(str(event.get("text", ""))))

    def _event(self, event: dict[str, Any]) -> None:
        assert self._progress is not None
        kind = event.get("event")
        if kind == "epoch_start":
            self._reset_task()
            description = f"    epoch {epoch_number(event['epoch'])}/{event['total_epochs']}"
            self._task = self._progress.add_task(description, total=event.get("total_batches") or None)
        elif kind == "batch_end" and self._task is not None:
            self._progress.update(self._task, completed=event["batches_done"])
        elif kind == "epoch_end":
            self._print(f"    epoch {epoch_number(event['epoch'])}: {_format_metrics(event.get('metrics', {}))}")
        elif kind == "message":
            self._print(f"    {escape(str(event.get('text', '')))}")

    def _reset_task(self) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.remove_task(self._task)
            self._task = None


def applicable_notes(notes: list[str], backends: int) -> list[str]:
    """The plan notes that apply to a study of ``backends`` backends (cross-framework ones need two or more)."""
    return [note for note in notes if backends > 1 or note not in CROSS_FRAMEWORK_NOTES]


def _format_metrics(metrics: dict[str, Any]) -> str:
    parts = []
    for key in ("train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr"):
        value = metrics.get(key)
        if isinstance(value, (int, float)):
            parts.append(f"{key} {value:.4g}")
    return ", ".join(parts)

"""Child-process entry point: ``python -m suite.execution.worker RUN_DIR`` trains one run and stores its result.

``python -m suite.execution.worker --serve`` is a warm worker: it runs one backend's runs one after another
(:mod:`suite.execution.serve`), each through :func:`run_directory` as a fresh worker would. The executor keeps
TensorFlow, JAX and PyTorch in separate processes; any
exception is recorded in result.json as a failed run (the executor also covers hard crashes). The worker
dies with its executor (:func:`suite.lifeline.watch_parent`) and ignores SIGINT: the executor owns
interruption, so a Ctrl-C in the terminal never records a run as failed.

A run that diverges or passes ``training.time_limit`` is recorded with its own status and exit status;
one that left a resume state continues from its next epoch (:mod:`suite.training.resume`).
"""

from __future__ import annotations

import hashlib
import os
import signal
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from suite import lifeline, store
from suite.data.bundle import DataBundle
from suite.efficiency import not_measured
from suite.execution.serve import SERVE_FLAG, serve
from suite.metrics import classification_metrics, history_metrics
from suite.runners.progress import PipeProgress, ProgressReporter
from suite.runners.protocol import RunOutput, epoch_number, numbered_history
from suite.runners.registry import BackendUnavailableError, create_runner
from suite.spec.models import ExperimentSpec
from suite.spec.serialize import spec_from_toml
from suite.store import statuses
from suite.training import resume
from suite.training.stops import Deadline, RunStopped

ERROR_TAIL_LINES = 15
FAILED_EXIT_STATUS = 1
"""An exception stopped the run (result.json: ``failed`` with the traceback tail)."""
USAGE_EXIT_STATUS = 2
"""The command line was wrong."""
UNAVAILABLE_EXIT_STATUS = 3
"""The run's backend or engine is not installed here (result.json: ``unavailable``)."""
DIVERGED_EXIT_STATUS = 4
"""Non-finite loss, logits or weights stopped training (result.json: ``diverged``, ``diverged_at_epoch``)."""
TIMEOUT_EXIT_STATUS = 5
"""``training.time_limit`` passed during training (result.json: ``timeout``, ``timeout_at_epoch``)."""
PRUNED_EXIT_STATUS = 6
"""A tuning trial's pruner stopped it (result.json: ``pruned``, ``pruned_at_epoch``)."""
EXIT_STATUSES = {
    statuses.COMPLETED: 0,
    statuses.FAILED: FAILED_EXIT_STATUS,
    statuses.UNAVAILABLE: UNAVAILABLE_EXIT_STATUS,
    statuses.DIVERGED: DIVERGED_EXIT_STATUS,
    statuses.TIMEOUT: TIMEOUT_EXIT_STATUS,
    statuses.PRUNED: PRUNED_EXIT_STATUS,
}
"""The worker's exit status for each status it records itself."""


def main(argv: list[str] | None = None) -> int:
    """Run the spec stored in ``RUN_DIR/spec.toml``; the exit status is the recorded status's (EXIT_STATUSES).

    ``--serve``: a warm worker instead, running one run after another as its executor asks
    (:mod:`suite.execution.serve`).
    """
    lifeline.watch_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    clock = process_start()
    args = sys.argv[1:] if argv is None else argv
    if args == [SERVE_FLAG]:
        return serve()
    if len(args) != 1:
        print(f"usage: python -m suite.execution.worker RUN_DIR | {SERVE_FLAG}", file=sys.stderr)
        return USAGE_EXIT_STATUS
    return run_directory(Path(args[0]), clock, PipeProgress.from_environment())


def run_directory(directory: Path, clock: float, progress: ProgressReporter) -> int:
    """Train and store the run in ``directory`` (its spec.toml and result header are there); its exit status.

    ``clock``: when the run's time began (``time.monotonic()``), the start of ``training.time_limit``.
    """
    spec = spec_from_toml((directory / store.SPEC_FILE).read_text(encoding="utf-8"))
    header = store.read_result(directory) or {}
    started = datetime.now(UTC).isoformat(timespec="seconds")
    try:
        deadline = Deadline(spec.training.time_limit, clock)
        result = _train_from_state_or_scratch(spec, directory, deadline, progress, header.get("trial"))
    except RunStopped as stop:
        print(f"{stop.status}: {stop.message}", file=sys.stderr)
        store.write_json(directory / store.RESULT_FILE, {**stopped_payload(header, stop), "started_at": started})
        if stop.status in (statuses.DIVERGED, statuses.PRUNED):
            resume.clear(directory)  # continuing would only diverge again; a timed-out run keeps its state
        return EXIT_STATUSES[stop.status]
    except BackendUnavailableError as exc:
        print(f"unavailable: {exc}", file=sys.stderr)
        unavailable = {**header, "status": "unavailable", "error": str(exc), "finished_at": _now()}
        unavailable["efficiency"] = not_measured("the run could not start: its backend is unavailable")
        store.write_json(directory / store.RESULT_FILE, {**unavailable, "started_at": started})
        return UNAVAILABLE_EXIT_STATUS
    except BaseException as exc:  # recorded, not swallowed: exit status says failed
        traceback.print_exc()
        failure = {**header, "status": "failed", "error": error_tail(exc), "reason": exception_text(exc)}
        failure.update(started_at=started, finished_at=_now())
        failure["efficiency"] = not_measured("the run failed before it finished (see error)")
        store.write_json(directory / store.RESULT_FILE, failure)
        return FAILED_EXIT_STATUS
    store.write_json(directory / store.RESULT_FILE, {**header, **result, "started_at": started, "finished_at": _now()})
    if not spec.training.checkpoint:
        resume.clear(directory)
    return 0


def process_start() -> float:
    """When this process started, on the ``time.monotonic()`` clock (the start of ``training.time_limit``).

    Read from ``/proc/self/stat`` so the imports before :func:`main` count; now, where that is not available.
    """
    now = time.monotonic()
    try:
        with open("/proc/self/stat", encoding="ascii") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        started = int(fields[19]) / os.sysconf("SC_CLK_TCK")  # field 22: start time after boot, in clock ticks
        age = time.clock_gettime(time.CLOCK_BOOTTIME) - started
    except (OSError, IndexError, ValueError, AttributeError):
        return now
    return now - age if 0.0 <= age < 3600.0 else now


def stopped_payload(header: dict[str, Any], stop: RunStopped) -> dict[str, Any]:
    """result.json of a run that diverged or timed out; history.csv holds its epochs so far."""
    return {
        **header,
        "status": stop.status,
        "error": stop.message,
        f"{stop.status}_at_epoch": epoch_number(stop.epoch),
        "efficiency": not_measured(f"the run stopped ({stop.status}) before its model was finished"),
        "epochs_completed": len(stop.history),
        "resumed_from_epoch": _attempt_start(stop.resumed_from_epoch),
        "resumes": stop.resumes,
        "finished_at": _now(),
    }


def _train_from_state_or_scratch(
    spec: ExperimentSpec,
    directory: Path,
    deadline: Deadline,
    progress: ProgressReporter,
    trial: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Train (continuing from the resume state); a resume state that cannot be loaded is discarded, once."""
    try:
        return _train_and_measure(spec, directory, deadline, progress, trial)
    except resume.ResumeStateDamaged as exc:
        print(f"warning: resume state discarded, it cannot be loaded ({exc}); training from scratch", file=sys.stderr)
        resume.clear(directory)
        return _train_and_measure(spec, directory, deadline, progress, trial)


def _train_and_measure(
    spec: ExperimentSpec,
    directory: Path,
    deadline: Deadline,
    progress: ProgressReporter,
    trial: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Train and test the run, store its history and predictions; return result.json's measured part.

    A tuning ``trial`` (result.json's entry) trains on a sealed test split instead, its pruner hearing every
    epoch, and is measured on its validation objective.
    """
    from suite.data.loading import load_bundle
    from suite.training.run import execute

    runner = create_runner(spec.backend, spec.engine)
    problems = runner.check(spec)
    if problems:
        raise ValueError(f"{spec.backend_label} runner cannot run this spec: " + "; ".join(problems))
    data = load_bundle(spec.dataset, spec.seed)
    on_epoch = None
    if trial is not None:
        from suite.tuning.trial_run import EpochReporter, seal_test_split

        data, on_epoch = seal_test_split(data), EpochReporter(trial)
    controls = {"deadline": deadline, "on_resume": _noting(directory), "on_epoch": on_epoch, "test": trial is None}
    try:
        output = execute(spec, runner, data, directory, progress, **controls)
    except RunStopped as stop:
        store.write_history(directory / store.HISTORY_FILE, numbered_history(stop.history))
        raise
    store.write_history(directory / store.HISTORY_FILE, numbered_history(output.history))
    if trial is not None:
        from suite.tuning.trial_run import trial_payload

        return trial_payload(result_payload(output, data, tested=False), output, trial["tune"]["objective"])
    store.write_predictions(
        directory / store.PREDICTIONS_FILE, output.test_labels, output.test_scores, data.sample_ids.get("test")
    )
    return result_payload(output, data)


def result_payload(output: RunOutput, data: DataBundle, tested: bool = True) -> dict[str, Any]:
    """The measured part of result.json: params, metrics, timing, environment (no test figures unless ``tested``)."""
    metrics = classification_metrics(output.test_labels, output.test_scores, data.class_names) if tested else {}
    metrics.update(history_metrics(numbered_history(output.history), epoch_number(output.best_epoch)))
    extra = {**output.extra, "samples": _sample_counts(data, tested)}
    if tested:
        extra["data_fingerprint"] = data_fingerprint(data)
    return {
        "status": "completed",
        "error": None,
        "resumed_from_epoch": _attempt_start(output.resumed_from_epoch),
        "resumes": output.resumes,
        "params": output.params.to_dict(),
        "metrics": metrics,
        "timing": output.timing.to_dict(),
        "efficiency": output.efficiency,
        "environment": output.environment,
        "class_names": data.class_names,
        "extra": extra,
    }


def _noting(directory: Path) -> Any:
    """The loop's ``on_resume``: result.json says at once that this attempt resumed (kept if it dies again)."""

    def note(resumed_from_epoch: int, resumes: int) -> None:
        current = store.read_result(directory) or {}
        resumed = {"resumed_from_epoch": _attempt_start(resumed_from_epoch), "resumes": resumes}
        store.write_json(directory / store.RESULT_FILE, {**current, **resumed})

    return note


def _attempt_start(index: int | None) -> int | None:
    """The number (from 1) of the epoch the last attempt started at, from the loop's 0-based index."""
    return None if index is None else epoch_number(index)


def data_fingerprint(data: DataBundle) -> str:
    """Hash of the exact samples and preprocessing, equal across backends when they saw the same inputs."""
    digest = hashlib.sha256(repr(data.preprocessing).encode())
    for split in (data.train, data.val, data.test):
        digest.update(split.images.tobytes())
        digest.update(split.labels.astype("int64").tobytes())
    return digest.hexdigest()[:16]


def _sample_counts(data: DataBundle, tested: bool = True) -> dict[str, int]:
    counts = {"train": len(data.train), "val": len(data.val)}
    return {**counts, "test": len(data.test)} if tested else counts


def exception_text(exc: BaseException) -> str:
    """``Type: message`` with every line of the message (what the console shows for a failed run)."""
    message = str(exc).strip()
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def error_tail(exc: BaseException, lines: int = ERROR_TAIL_LINES) -> str:
    """The last lines of the formatted traceback (what result.json records for a failed run)."""
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)).rstrip()
    return "\n".join(text.splitlines()[-lines:])


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


if __name__ == "__main__":
    sys.exit(main())

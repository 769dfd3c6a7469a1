"""Child-process entry point: ``python -m suite.worker RUN_DIR`` trains one run and stores its result.

The executor starts one worker per run so TensorFlow, JAX and PyTorch never share a process; any
exception is recorded in result.json as a failed run (the executor also covers hard crashes).
"""

from __future__ import annotations

import hashlib
import sys
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from suite import store
from suite.data.bundle import DataBundle
from suite.metrics import classification_metrics, history_metrics
from suite.runners.progress import PipeProgress
from suite.runners.protocol import RunOutput
from suite.runners.registry import BackendUnavailableError, create_runner
from suite.spec.models import ExperimentSpec
from suite.spec.serialize import spec_from_toml

ERROR_TAIL_LINES = 15
UNAVAILABLE_EXIT_STATUS = 3


def main(argv: list[str] | None = None) -> int:
    """Run the spec stored in ``RUN_DIR/spec.toml``; exit status 0 on success, 1 on failure."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m suite.worker RUN_DIR", file=sys.stderr)
        return 2
    directory = Path(args[0])
    spec = spec_from_toml((directory / store.SPEC_FILE).read_text(encoding="utf-8"))
    header = store.read_result(directory) or {}
    started = datetime.now(UTC).isoformat(timespec="seconds")
    try:
        result = _train_and_measure(spec, directory)
    except BackendUnavailableError as exc:
        print(f"unavailable: {exc}", file=sys.stderr)
        unavailable = {**header, "status": "unavailable", "error": str(exc), "finished_at": _now()}
        store.write_json(directory / store.RESULT_FILE, {**unavailable, "started_at": started})
        return UNAVAILABLE_EXIT_STATUS
    except BaseException as exc:  # recorded, not swallowed: exit status says failed
        traceback.print_exc()
        failure = {**header, "status": "failed", "error": error_tail(exc), "started_at": started, "finished_at": _now()}
        store.write_json(directory / store.RESULT_FILE, failure)
        return 1
    store.write_json(directory / store.RESULT_FILE, {**header, **result, "started_at": started, "finished_at": _now()})
    return 0


def _train_and_measure(spec: ExperimentSpec, directory: Path) -> dict[str, Any]:
    from suite.data.loading import load_bundle
    from suite.training.run import execute

    runner = create_runner(spec.backend, spec.engine)
    problems = runner.check(spec)
    if problems:
        raise ValueError(f"{spec.backend_label} runner cannot run this spec: " + "; ".join(problems))
    data = load_bundle(spec.dataset, spec.seed)
    output = execute(spec, runner, data, directory, PipeProgress.from_environment())
    store.write_history(directory / store.HISTORY_FILE, output.history)
    store.write_predictions(
        directory / store.PREDICTIONS_FILE, output.test_labels, output.test_scores, data.sample_ids.get("test")
    )
    return result_payload(output, data)


def result_payload(output: RunOutput, data: DataBundle) -> dict[str, Any]:
    """The measured part of result.json: params, metrics, timing, environment."""
    metrics = classification_metrics(output.test_labels, output.test_scores, data.class_names)
    metrics.update(history_metrics(output.history, output.best_epoch))
    extra = {**output.extra, "data_fingerprint": data_fingerprint(data), "samples": _sample_counts(data)}
    return {
        "status": "completed",
        "error": None,
        "params": output.params.to_dict(),
        "metrics": metrics,
        "timing": output.timing.to_dict(),
        "environment": output.environment,
        "class_names": data.class_names,
        "extra": extra,
    }


def data_fingerprint(data: DataBundle) -> str:
    """Hash of the exact samples and preprocessing, equal across backends when they saw the same inputs."""
    digest = hashlib.sha256(repr(data.preprocessing).encode())
    for split in (data.train, data.val, data.test):
        digest.update(split.images.tobytes())
        digest.update(split.labels.astype("int64").tobytes())
    return digest.hexdigest()[:16]


def _sample_counts(data: DataBundle) -> dict[str, int]:
    return {"train": len(data.train), "val": len(data.val), "test": len(data.test)}


def error_tail(exc: BaseException, lines: int = ERROR_TAIL_LINES) -> str:
    """The last lines of the formatted traceback (what result.json records for a failed run)."""
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)).rstrip()
    return "\n".join(text.splitlines()[-lines:])


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


if __name__ == "__main__":
    sys.exit(main())

"""``model.weights = "run:<study dir>/<run name>"``: the best checkpoint of a finished run of either backend.

"Pretrain here, transfer there": the reference names a study directory and one of its runs by name (as
``suite report`` prints it); it resolves to ``runs/<id>/checkpoints/best.pt`` (torch) or ``best.weights.h5``
(Keras), falling back to ``last``. A run that did not complete, or kept no checkpoint, is one line.
"""

from __future__ import annotations

from pathlib import Path

from suite.store.results import RUNS_DIR, SPEC_FILE, StoreError, load_spec, outputs_problem

RUN_PREFIX = "run:"
CHECKPOINT_FILES = ("best.pt", "best.weights.h5", "last.pt", "last.weights.h5")


def is_run_reference(weights: str) -> bool:
    """True for ``run:...`` values of ``model.weights``."""
    return weights.startswith(RUN_PREFIX)


def _find_run(study: Path, name: str) -> Path:
    runs = study / RUNS_DIR
    if not runs.is_dir():
        raise ValueError(f"model.weights: 'run:{study}/{name}': {study} holds no study (no {RUNS_DIR}/ directory)")
    found = []
    for spec_file in sorted(runs.glob(f"*/{SPEC_FILE}")):
        try:
            if load_spec(spec_file.parent).get("name") == name:
                found.append(spec_file.parent)
        except StoreError:
            continue
    if not found:
        raise ValueError(f"model.weights: 'run:{study}/{name}': the study has no run named {name!r}")
    return found[-1]


def resolve_run_weights(reference: str) -> Path:
    """The checkpoint file of a completed run named by ``run:<study dir>/<run name>``; ValueError in one line."""
    study_and_name = reference.removeprefix(RUN_PREFIX)
    study, _, name = study_and_name.rstrip("/").rpartition("/")
    if not study or not name:
        raise ValueError(f"model.weights: {reference!r}: expected 'run:<study dir>/<run name>'")
    directory = _find_run(Path(study).expanduser(), name)
    problem = outputs_problem(directory)
    if problem is not None:
        raise ValueError(f"model.weights: {reference!r}: run {name!r} did not complete ({problem})")
    for file_name in CHECKPOINT_FILES:
        path = directory / "checkpoints" / file_name
        if path.is_file():
            return path
    raise ValueError(
        f"model.weights: {reference!r}: run {name!r} kept no checkpoint (it ran with training.checkpoint off)"
    )


def run_weights_problem(weights: str) -> str | None:
    """The one-line reason a ``run:`` reference cannot be used now, or None (also None for other values)."""
    if not is_run_reference(weights):
        return None
    try:
        resolve_run_weights(weights)
    except ValueError as error:
        return str(error)
    return None

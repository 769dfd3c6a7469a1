"""The result store: what a study leaves on disk, written atomically and read back checked.

Owns the layout ``OUT/study.json`` + ``OUT/runs/<run_id>/{spec.toml,result.json,history.csv,predictions.npz}``
(:mod:`suite.store.results`), the pure checks of parsed content (:mod:`suite.store.checks`), the statuses a run
can end in (:mod:`suite.store.statuses`) and a stored run's observed status (:mod:`suite.store.run_status`).
Runs in every process that reads or writes results: the ``suite`` command, workers, Ray nodes and ``reports``.
May import ``suite.spec`` and ``suite.runners.protocol`` only; never a framework, never ``suite.execution``.
The readers and writers of :mod:`suite.store.results` are re-exported here (``from suite import store``).
"""

from suite.store.results import (
    HISTORY_FILE,
    PREDICTIONS_FILE,
    RESULT_FILE,
    RUNS_DIR,
    SPEC_FILE,
    STUDY_FILE,
    TRIALS_DIR,
    Predictions,
    StoreError,
    check_outputs,
    damaged_path,
    is_completed,
    load_history,
    load_predictions,
    load_result,
    load_spec,
    load_study,
    move_aside,
    outputs_problem,
    read_result,
    run_dir,
    write_atomic,
    write_history,
    write_json,
    write_predictions,
    write_text,
)

__all__ = [
    "HISTORY_FILE",
    "PREDICTIONS_FILE",
    "RESULT_FILE",
    "RUNS_DIR",
    "SPEC_FILE",
    "STUDY_FILE",
    "TRIALS_DIR",
    "Predictions",
    "StoreError",
    "check_outputs",
    "damaged_path",
    "is_completed",
    "load_history",
    "load_predictions",
    "load_result",
    "load_spec",
    "load_study",
    "move_aside",
    "outputs_problem",
    "read_result",
    "run_dir",
    "write_atomic",
    "write_history",
    "write_json",
    "write_predictions",
    "write_text",
]

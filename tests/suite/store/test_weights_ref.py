"""``model.weights = "run:<study>/<run>"``: the checkpoint of a completed run, or one line saying why not."""

from pathlib import Path

import pytest

from suite import store
from suite.store.weights_ref import resolve_run_weights, run_weights_problem


def _run(study: Path, run_id: str, name: str, status: str, checkpoint: str | None) -> Path:
    directory = study / store.RUNS_DIR / run_id
    directory.mkdir(parents=True)
    (directory / store.SPEC_FILE).write_text(f'name = "{name}"\n', encoding="utf-8")
    store.write_json(directory / store.RESULT_FILE, {"status": status})
    if checkpoint:
        (directory / "checkpoints").mkdir()
        (directory / "checkpoints" / checkpoint).write_bytes(b"weights")
    return directory


def test_unfinished_unknown_and_checkpointless_runs_are_one_line(tmp_path: Path) -> None:
    _run(tmp_path, "a1", "pretrain", "running", "best.pt")
    _run(tmp_path, "b2", "nockpt", "failed", None)
    for name, expected in (("pretrain", "did not complete"), ("ghost", "no run named 'ghost'")):
        problem = run_weights_problem(f"run:{tmp_path}/{name}")
        assert problem is not None and expected in problem and "\n" not in problem
    assert "holds no study" in run_weights_problem(f"run:{tmp_path / 'nowhere'}/x")
    assert run_weights_problem("weights.pt") is None
    with pytest.raises(ValueError, match="expected 'run:<study dir>/<run name>'"):
        resolve_run_weights("run:alone")

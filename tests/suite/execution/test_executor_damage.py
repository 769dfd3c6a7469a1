"""A rerun never turns a completed result into a worse status; a damaged entry is moved aside and replaced."""

from __future__ import annotations

from pathlib import Path

import pytest

from suite import store
from suite.execution.executor import run_study
from suite.execution.launch import LocalLauncher, WorkerExit, WorkerJob
from suite.spec.loader import load_study

SPEC = """
[study]
name = "damage"

[defaults]
backend = "centroid"
dataset = { source = "digits", normalization = "unit", subset = { train = 300 } }
optimizer = { name = "sgd", lr = 0.5 }
training = { epochs = 2 }

[[experiments]]
name = "ok"
model = { name = "mlp2" }
"""


class _FailingLauncher(LocalLauncher):
    """Every worker 'fails' at once (a broken machine): the previous result must survive."""

    def launch(self, job: WorkerJob, on_event: object) -> WorkerExit:
        return WorkerExit(returncode=1)


def _study(tmp_path: Path):  # noqa: ANN202 - a Study
    spec_file = tmp_path / "damage.toml"
    spec_file.write_text(SPEC)
    return load_study(spec_file)


@pytest.mark.slow
def test_predictions_become_a_directory_the_entry_is_moved_aside_and_the_run_completes(
    plugin_path: Path, tmp_path: Path
) -> None:
    study, out = _study(tmp_path), tmp_path / "out"
    (first,) = run_study(study, out, quiet=True)
    predictions = first.directory / store.PREDICTIONS_FILE
    predictions.unlink()
    predictions.mkdir()
    (predictions / "inside.txt").write_text("kept for inspection")
    (again,) = run_study(study, out, quiet=True)
    assert again.status == "completed" and store.is_completed(first.directory)
    (aside,) = first.directory.glob(f"{store.PREDICTIONS_FILE}.damaged-*")
    assert (aside / "inside.txt").read_text() == "kept for inspection"


def test_a_failed_rerun_keeps_the_completed_result(plugin_path: Path, tmp_path: Path) -> None:
    study, out = _study(tmp_path), tmp_path / "out"
    (first,) = run_study(study, out, quiet=True)
    before = store.load_result(first.directory)
    (first.directory / store.HISTORY_FILE).write_text("garbage\n")
    (rerun,) = run_study(study, out, quiet=True, launcher=_FailingLauncher())
    assert rerun.status == "failed"
    after = store.load_result(first.directory)
    assert after["status"] == "completed" and after["metrics"] == before["metrics"]
    assert after["last_rerun"]["status"] == "failed"
    assert len(list(first.directory.glob(f"{store.HISTORY_FILE}.damaged-*"))) == 1


@pytest.mark.slow
def test_a_stored_spec_that_does_not_match_its_run_id_is_rerun(plugin_path: Path, tmp_path: Path) -> None:
    study, out = _study(tmp_path), tmp_path / "out"
    (first,) = run_study(study, out, quiet=True)
    spec = first.directory / store.SPEC_FILE
    spec.write_text(spec.read_text().replace("seed = 0", "seed = 7"))
    assert "does not match its run id" in (store.outputs_problem(first.directory) or "")
    (again,) = run_study(study, out, quiet=True)
    assert again.status == "completed" and store.is_completed(first.directory)
    (aside,) = first.directory.glob(f"{store.SPEC_FILE}.damaged-*")
    assert "seed = 7" in aside.read_text()

"""Nothing outside a study directory is read through a link: such a file is reported as damaged and left out."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from report_store import FakeRun, write_study

from reports import build_report
from reports.load import load_store
from suite import store
from suite.tracking.stored import PLAN_FILE, read_stored_run

OUTSIDE_RESULT = {"status": "completed", "name": "intruder", "metrics": {"test_accuracy": 0.999}}


def _study(tmp_path: Path) -> tuple[Path, Path]:
    out = write_study(tmp_path / "study", "links", [FakeRun("good"), FakeRun("victim", seed=1)])
    victim = next(d for d in (out / store.RUNS_DIR).iterdir() if store.load_result(d)["name"] == "victim")
    outside = tmp_path / "outside"
    outside.mkdir()
    return out, victim


def _link(victim: Path, name: str, target: Path) -> Path:
    (victim / name).unlink(missing_ok=True)
    os.symlink(target, victim / name)
    return victim / name


@pytest.mark.parametrize("name", [store.RESULT_FILE, store.HISTORY_FILE, store.PREDICTIONS_FILE])
def test_a_link_leaving_the_study_is_damage_and_its_content_never_reaches_the_report(tmp_path: Path, name: str) -> None:
    out, victim = _study(tmp_path)
    secret = tmp_path / "outside" / "secret.txt"
    secret.write_text("SECRET-FIRST-LINE,epoch\n1,2\n" if name != store.RESULT_FILE else json.dumps(OUTSIDE_RESULT))
    _link(victim, name, secret)
    loaded = load_store([out])
    assert [record.result["name"] for record in loaded.records] == ["good"]
    assert [damage.path for damage in loaded.damaged] == [victim / name]
    assert "outside the study directory; not read" in loaded.damaged[0].problem
    problems: list[str] = []
    report = build_report([out], out=tmp_path / "report.md", on_problem=problems.append).read_text()
    assert "SECRET" not in report + "".join(problems) and "0.999" not in report


def test_links_inside_the_study_are_read(tmp_path: Path) -> None:
    out, victim = _study(tmp_path)
    kept = out / "kept_history.csv"
    (victim / store.HISTORY_FILE).rename(kept)
    _link(victim, store.HISTORY_FILE, kept)
    assert len(load_store([out]).records) == 2 and not load_store([out]).damaged


def test_a_linked_run_directory_leaving_the_study_is_damage(tmp_path: Path) -> None:
    out, victim = _study(tmp_path)
    moved = tmp_path / "outside" / victim.name
    victim.rename(moved)
    os.symlink(moved, victim)
    loaded = load_store([out])
    assert len(loaded.records) == 1 and loaded.damaged[0].path == victim / store.RESULT_FILE


def test_export_leaves_out_a_plan_linked_outside(tmp_path: Path) -> None:
    out, victim = _study(tmp_path)
    secret = tmp_path / "outside" / "secret.json"
    secret.write_text('{"secret": true}')
    _link(victim, PLAN_FILE, secret)
    run = read_stored_run(victim)
    assert run is not None and victim / PLAN_FILE not in run.artifacts
    assert run.left_out == [f"{victim / PLAN_FILE}: a link to {secret}, outside the study directory; not read"]


def test_a_stored_spec_edited_after_the_run_is_damage(tmp_path: Path) -> None:
    out, victim = _study(tmp_path)
    spec = victim / store.SPEC_FILE
    spec.write_text(spec.read_text().replace("seed = 1", "seed = 7"))
    loaded = load_store([out])
    assert [record.result["name"] for record in loaded.records] == ["good"]
    assert loaded.damaged[0].path == spec and f"the run is {victim.name}" in loaded.damaged[0].problem

"""A damaged store never stops the report: healthy runs fill the tables, damaged ones are listed with the file."""

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from report_store import TRACEBACK, FakeRun, write_study

from reports import build_report
from reports.load import load_store
from reports.plan import plan_seeds
from suite import store
from suite.execution.run_lock import RunLock

ROOT = Path(__file__).resolve().parents[2]
HEALTHY = ["good[seed=0]", "good[seed=1]", "cnn"]
# name -> (file, bytes written over it, the problem the report names)
DAMAGE = {
    "bad_json": (
        store.RESULT_FILE,
        b'{\n  "status": "completed",\n  "metrics": \n}',
        "not valid JSON (line 4 column 1",
    ),
    "a_list": (store.RESULT_FILE, b"[1, 2, 3]", "expected a JSON object, found a list"),
    "empty": (store.RESULT_FILE, b"", "empty file"),
    "garbage": (store.RESULT_FILE, bytes(range(128, 256)), "not UTF-8 text (byte 0x80 at offset 0)"),
    "no_status": (store.RESULT_FILE, b'{"name": "no_status", "metrics": {}}', 'missing key "status"'),
    "bad_history": (store.HISTORY_FILE, b"epoch,train_loss\n0,1.0\n1,0.5,extra\n", "line 3 has 3 fields, the header 2"),
    "truncated_npz": (store.PREDICTIONS_FILE, None, "truncated or not an npz file"),
    "pickled_npz": (store.PREDICTIONS_FILE, None, "holds pickled (object) data, which is never loaded"),
}
TIMED_OUT = "training.time_limit of 60 s reached at epoch 1"
# name -> (fields written over a failed run's result.json, the status shown, the reason shown)
STATUSES = {
    "crashed": ({}, "failed", "RuntimeError: out of memory"),
    "blew_up": (
        {"status": "diverged", "error": "non-finite training loss at epoch 3, batch 1 (lr 10)", "diverged_at_epoch": 3},
        "diverged",
        "non-finite training loss at epoch 3",
    ),
    "too_slow": (
        {
            "status": "timeout",
            "error": "training.time_limit of 60 s reached at epoch 1, batch 2",
            "timeout_at_epoch": 1,
        },
        "timeout",
        TIMED_OUT,
    ),
    "oom_killed": ({"status": "killed", "error": None, "signal": 9}, "killed", "killed by signal 9 (SIGKILL)"),
    "no_keras": ({"status": "unavailable", "error": "keras is not installed"}, "unavailable", "keras is not installed"),
    "stale": ({"status": "running", "error": None}, "interrupted", "suite run resumes it"),
    "training_now": ({"status": "running", "error": None}, "running", "an executor holds its lock"),
}


def _damage(directory: Path, name: str) -> None:
    file, content, _ = DAMAGE[name]
    path = directory / file
    if name == "truncated_npz":
        content = path.read_bytes()[: path.stat().st_size // 2]
    if name == "pickled_npz":
        scores = np.empty((10, 3), dtype=object)
        scores[:] = 0.5
        np.savez(path, labels=np.zeros(10, dtype=int), scores=scores)
        return
    path.write_bytes(content)


def _restatus(directory: Path, fields: dict) -> None:
    path = directory / store.RESULT_FILE
    store.write_json(path, {**json.loads(path.read_text()), **fields})


@pytest.fixture
def damaged_study(tmp_path: Path) -> tuple[Path, dict[str, Path]]:
    runs = [FakeRun("good[seed=0]", wrong=[0]), FakeRun("good[seed=1]", seed=1), FakeRun("cnn", model="cnn")]
    runs += [FakeRun(name, model=f"m_{name}", wrong=[1]) for name in DAMAGE]
    runs += [FakeRun(name, model=f"m_{name}", error=TRACEBACK) for name in STATUSES]
    directory = write_study(tmp_path / "study", "damaged", runs)
    by_name = {store.load_spec(path)["name"]: path for path in (directory / "runs").iterdir()}
    for name in DAMAGE:
        _damage(by_name[name], name)
    for name, (fields, _, _) in STATUSES.items():
        _restatus(by_name[name], fields)
    return directory, by_name


def _sections(markdown: str) -> dict[str, str]:
    parts = re.split(r"^## (.+)$", markdown, flags=re.MULTILINE)
    return {title.strip(): body for title, body in zip(parts[1::2], parts[2::2], strict=True)}


def _rows(section: str) -> list[str]:
    lines = [line for line in section.splitlines() if line.startswith("| ")]
    return lines[1:]  # below the header


def test_suite_report_lists_damage_and_statuses_and_tables_hold_completed_runs_only(damaged_study) -> None:
    directory, by_name = damaged_study
    claim = RunLock(by_name["training_now"])
    assert claim.acquire()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "suite", "report", str(directory)], capture_output=True, text=True, cwd=ROOT
        )
    finally:
        claim.release()
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    sections = _sections((directory / "report.md").read_text(encoding="utf-8"))
    others = [*DAMAGE, *STATUSES]
    for title in ("Leaderboard", "Runs"):
        assert all(name in sections[title] for name in ("good", "cnn")), title
        assert not [name for name in others if name in sections[title]], title
    damaged = _rows(sections["Damaged runs"])
    assert len(damaged) == len(DAMAGE)
    for name, (file, _, problem) in DAMAGE.items():
        [row] = [row for row in damaged if f"| {name} |" in row]
        assert f"| runs/{by_name[name].name} | {name} | {file} | `{problem}" in row
    statuses = _rows(sections["Runs that did not complete"])
    assert len(statuses) == len(STATUSES)
    for name, (_, status, reason) in STATUSES.items():
        [row] = [row for row in statuses if row.startswith(f"| {name} |")]
        assert f"| {status} | `" in row and reason in row, row


def test_build_report_passes_each_damage_on_as_one_line(damaged_study) -> None:
    directory, by_name = damaged_study
    lines: list[str] = []
    build_report([directory], on_problem=lines.append)
    expected = {f"{by_name[name] / file}: {problem}" for name, (file, _, problem) in DAMAGE.items()}
    assert len(lines) == len(DAMAGE) and all("\n" not in line for line in lines)
    assert all(any(line.startswith(prefix) for line in lines) for prefix in expected)


def test_the_tidy_table_holds_every_readable_run_with_its_honest_status(damaged_study, tmp_path: Path) -> None:
    directory, _ = damaged_study
    table = pd.read_csv(build_report([directory], out=tmp_path / "t.csv", fmt="csv"))
    assert sorted(table["name"]) == sorted([*HEALTHY, *STATUSES])
    assert dict(zip(table["name"], table["status"], strict=True))["stale"] == "interrupted"


def test_a_damaged_study_file_is_listed_and_the_runs_still_reported(tmp_path: Path) -> None:
    directory = write_study(tmp_path / "s", "s", [FakeRun("good")])
    (directory / store.STUDY_FILE).write_text('{"study": "s", "run_ids": [')
    stored = load_store([directory])
    assert [record.result["name"] for record in stored.records] == ["good"]
    assert [damage.line for damage in stored.damaged] == [
        f"{directory / store.STUDY_FILE}: not valid JSON (line 1 column 28: Expecting value)"
    ]
    sections = _sections(build_report([directory]).read_text(encoding="utf-8"))
    assert "good" in sections["Leaderboard"] and "| study.json |" in sections["Damaged runs"]


def test_a_study_of_damaged_runs_only_still_reports(tmp_path: Path) -> None:
    directory = write_study(tmp_path / "s", "s", [FakeRun("a"), FakeRun("b", model="cnn")])
    for path in directory.glob("runs/*/result.json"):
        path.write_text("[]")
    markdown = build_report([directory]).read_text(encoding="utf-8")
    assert set(_sections(markdown)) == {"Damaged runs", "Provenance"}
    assert "2 run(s): 0 completed, 2 damaged" in markdown


def test_plan_seeds_skips_damaged_runs_with_their_line(damaged_study) -> None:
    directory, by_name = damaged_study
    text = plan_seeds(directory, 5)
    assert text.startswith("2 configuration(s)")
    skipped = [line for line in text.splitlines() if line.startswith("skipped ")]
    assert len(skipped) == len(DAMAGE)
    assert f"skipped {by_name['a_list'] / store.RESULT_FILE}: expected a JSON object, found a list" in skipped

"""Where ``suite`` writes: an unusable ``--out`` is one line and exit 2; a full or read-only disk is one line.

The full and read-only disks are simulated here (an OSError with ENOSPC / EROFS from the atomic rename);
``benchmarks/faults/store_faults.py`` meets the real ones on a small tmpfs where the machine allows mounting.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from benchmarks.faults.malformed_specs import VALID, write_case
from suite import store
from suite.cli import app
from suite.store import results


def _run(spec: Path, out: str) -> tuple[int, list[str]]:
    result = CliRunner().invoke(app, ["run", str(spec), "--out", out, "--no-check", "--quiet"])
    assert "Traceback" not in result.output
    return result.exit_code, [line for line in result.output.splitlines() if line.strip()]


@pytest.mark.parametrize(
    ("out", "expected"),
    [
        ("", "--out: empty path"),
        ("a_file", "--out: {tmp}/a_file: is a file, not a directory"),
        ("a_file/sub/dir", "--out: {tmp}/a_file/sub/dir: cannot be created, {tmp}/a_file is a file"),
    ],
)
def test_an_unusable_out_is_one_line_and_exit_2(tmp_path: Path, out: str, expected: str) -> None:
    (tmp_path / "a_file").write_text("not a directory")
    spec = write_case(tmp_path, "base", VALID)
    code, lines = _run(spec, str(tmp_path / out) if out else out)
    assert code == 2 and len(lines) == 1
    assert lines[0].startswith(expected.format(tmp=tmp_path)), lines


def test_an_out_that_cannot_be_created_names_the_cause(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(self: Path, *args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "mkdir", refuse)
    code, lines = _run(write_case(tmp_path, "base", VALID), str(tmp_path / "new"))
    assert code == 2 and lines == [f"--out: {tmp_path / 'new'}: cannot be created (Permission denied)"]


@pytest.mark.parametrize(
    ("code", "cause", "exit_code"),
    [
        (errno.ENOSPC, "No space left on device", 1),
        (errno.EROFS, "Read-only file system", 1),
        (errno.ENOTDIR, "Not a directory", 2),
    ],
)
def test_a_store_that_cannot_be_written_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int, cause: str, exit_code: int
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / store.STUDY_FILE).write_text('{"study": "faults", "run_ids": []}')

    def refuse(source: str, target: str) -> None:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(results.os, "replace", refuse)
    spec = write_case(tmp_path, "base", VALID)
    result = CliRunner().invoke(app, ["run", str(spec), "--out", str(out), "-q", "--no-check"])
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code == exit_code and "Traceback" not in result.output
    assert lines == [
        f"cannot write {out / store.STUDY_FILE}: {cause}; the results stored before are intact "
        f"(details in {out / 'suite.log'})"
    ]
    assert (out / store.STUDY_FILE).read_text() == '{"study": "faults", "run_ids": []}'
    assert sorted(path.name for path in out.iterdir()) == [".study.lock", store.STUDY_FILE, "suite.log"]
    assert "Traceback" in (out / "suite.log").read_text()

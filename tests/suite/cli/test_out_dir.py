"""``suite run --out``: an empty path, a file, a path under a file or one that cannot be created is one line, exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from benchmarks.faults.malformed_specs import VALID, write_case
from suite.cli import app


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

"""``suite report`` on a disk it cannot write (read-only, full): one line naming the path, exit 1, no traceback."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest
from report_store import FakeRun, write_study
from typer.testing import CliRunner

from suite.cli import app


def test_a_report_on_a_read_only_disk_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = write_study(tmp_path / "study", "ro", [FakeRun("good")])

    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError(errno.EROFS, "Read-only file system", str(out / "figures"))

    monkeypatch.setattr(Path, "mkdir", refuse)
    result = CliRunner().invoke(app, ["report", str(out)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.output.strip().startswith(f"cannot write {out / 'figures'}: Read-only file system")

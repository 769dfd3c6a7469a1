"""A tracking URI MLflow cannot log to (a file store, an unknown scheme) is one line with the fix, exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from suite.cli import app

QUICKSTART = Path(__file__).resolve().parents[3] / "benchmarks" / "quickstart.toml"


@pytest.mark.parametrize(
    ("uri", "problem"),
    [
        ("file:///tmp/mlruns", "MLflow no longer logs to a file store"),
        ("ftp://host/x", "unsupported scheme 'ftp'"),
        ("nonexistent/dir", "MLflow no longer logs to a file store"),
    ],
)
def test_an_unusable_tracking_uri_is_one_line_with_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, uri: str, problem: str
) -> None:
    monkeypatch.delenv("MLFLOW_ALLOW_FILE_STORE", raising=False)
    result = CliRunner().invoke(
        app, ["run", str(QUICKSTART), "--out", str(tmp_path / "out"), "--no-check", "--mlflow", uri]
    )
    lines = [line for line in result.output.splitlines() if not line.startswith("output directory: ")]
    text = " ".join(" ".join(lines).split())
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert text.startswith(f"mlflow: {uri}: {problem}") and text.endswith(
        "sqlite:///PATH/mlflow.db or http://HOST:PORT"
    )

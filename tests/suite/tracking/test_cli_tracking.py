"""``--mlflow [URI]`` on the command line, and what happens without the mlflow extra."""

import importlib.util
import socket
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from suite import store
from suite.cli import app, with_mlflow_default
from suite.spec.loader import load_study
from suite.tracking import StudyTracker, TrackingUnavailableError

ROOT = Path(__file__).resolve().parents[3]
QUICKSTART = ROOT / "benchmarks" / "quickstart.toml"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["run", "s.toml", "--mlflow"], ["run", "s.toml", "--mlflow", "local"]),
        (["run", "s.toml", "--mlflow", "-q"], ["run", "s.toml", "--mlflow", "local", "-q"]),
        (["run", "s.toml", "--mlflow", "http://h:5000"], ["run", "s.toml", "--mlflow", "http://h:5000"]),
        (["run", "s.toml", "--mlflow=sqlite:///x.db"], ["run", "s.toml", "--mlflow=sqlite:///x.db"]),
        (["run", "--mlflow", str(QUICKSTART)], ["run", "--mlflow", "local", str(QUICKSTART)]),
    ],
)
def test_mlflow_alone_means_the_local_store(args: list[str], expected: list[str]) -> None:
    assert with_mlflow_default(args) == expected


@pytest.mark.slow
def test_without_mlflow_one_line_names_the_pip_command(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "mlflow", None)  # import mlflow now raises ImportError
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["run", str(QUICKSTART), "--out", str(out), "--mlflow", "local"])
    assert result.exit_code == 2
    assert result.output.strip() == 'MLflow is not installed: pip install "tlbench[mlflow]"'
    assert not out.exists()  # nothing trained
    with pytest.raises(TrackingUnavailableError, match="tlbench\\[mlflow\\]"):
        StudyTracker(out, "s", "http://127.0.0.1:1")


def test_export_needs_a_target_and_stored_runs(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["export", str(tmp_path)])
    assert result.exit_code == 2 and "--mlflow" in result.output
    result = CliRunner().invoke(app, ["export", str(tmp_path), "--mlflow", "local"])
    assert result.exit_code == 2 and "no stored runs" in result.output
    assert not (tmp_path / "mlflow.db").exists()


def test_study_tracking_key(tmp_path: Path) -> None:
    text = QUICKSTART.read_text()
    assert load_study(QUICKSTART).mlflow is None
    for value, expected in (("true", "local"), ('"http://h:5000"', "http://h:5000")):
        spec = tmp_path / "tracked.toml"
        spec.write_text(text.replace("[study]\n", f"[study]\ntracking = {{ mlflow = {value} }}\n", 1))
        assert load_study(spec).mlflow == expected


class _Unreachable:
    uri = "http://127.0.0.1:1"

    def log(self, run) -> str:
        raise ConnectionError("connection refused")


def test_a_logging_failure_is_reported_and_the_study_goes_on(tmp_path: Path) -> None:
    directory = store.run_dir(tmp_path, "abc")
    store.write_json(directory / store.RESULT_FILE, {"run_id": "abc", "name": "mlp", "status": "completed"})
    tracker = StudyTracker(tmp_path, "s")
    tracker.mlflow = _Unreachable()
    note = tracker.track(directory)
    assert note == "mlflow: cannot log mlp: ConnectionError: connection refused"
    assert tracker.problems == [note]
    assert tracker.track(tmp_path / "runs" / "missing") is None


@pytest.mark.skipif(importlib.util.find_spec("mlflow") is None, reason="needs the mlflow extra")
def test_a_server_nobody_answers_at_fails_in_seconds(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port with nothing listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.monotonic()
    with pytest.raises(TrackingUnavailableError, match=f"mlflow: cannot reach http://127.0.0.1:{port}"):
        StudyTracker(tmp_path, "s", f"http://127.0.0.1:{port}")
    assert time.monotonic() - started < 30

"""Every malformed spec of benchmarks/faults is refused by the real CLI with one line and exit status 2."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from benchmarks.faults.malformed_specs import MALFORMED_SPECS, VALID, VALID_YAML, write_case
from suite.cli import app


def _validate(path: Path) -> tuple[int, list[str], str]:
    result = CliRunner().invoke(app, ["validate", "--no-check", str(path)])
    lines = [line for line in result.output.splitlines() if line.strip()]
    return result.exit_code, lines, result.output


def test_there_are_enough_cases_and_labels_are_unique() -> None:
    labels = [label for label, _ in MALFORMED_SPECS]
    assert len(labels) >= 45 and len(set(labels)) == len(labels)


@pytest.mark.parametrize(("label", "content"), MALFORMED_SPECS, ids=[label for label, _ in MALFORMED_SPECS])
def test_malformed_spec_is_one_line_and_exit_2(tmp_path: Path, label: str, content: str | bytes) -> None:
    code, lines, output = _validate(write_case(tmp_path, label, content))
    assert code == 2, output
    assert len(lines) == 1, output
    assert "Traceback" not in output
    assert lines[0].startswith(("spec.toml: ", "spec.yaml: ")), output


@pytest.mark.parametrize(("label", "content"), [("base", VALID), ("yaml-base", VALID_YAML)])
def test_the_bases_of_the_cases_are_valid(tmp_path: Path, label: str, content: str) -> None:
    code, _, output = _validate(write_case(tmp_path, label, content))
    assert code == 0, output


def test_a_directory_and_a_missing_file_are_one_line(tmp_path: Path) -> None:
    for path in (tmp_path, tmp_path / "missing.toml"):
        code, lines, output = _validate(path)
        assert code == 2 and len(lines) == 1 and lines[0].startswith(str(path)), output

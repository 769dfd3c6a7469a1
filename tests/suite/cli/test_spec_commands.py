"""``suite validate`` as a new user meets it: problems name the spec file and what is missing."""

import subprocess
import sys
from pathlib import Path

PLUGIN_STUDY = """
[study]
name = "plugin"

[defaults]
backend = "centroid"
dataset = { source = "folder", path = "DATA" }
optimizer = { name = "sgd", lr = 0.5 }
training = { epochs = 1 }

[[experiments]]
name = "ok"
model = { name = "mlp2" }
"""


def _suite(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "suite", *args], capture_output=True, text=True, cwd=cwd)


def test_validate_plan_failure_names_the_spec_and_run(plugin_path: Path, tmp_path: Path) -> None:
    (tmp_path / "study.toml").write_text(PLUGIN_STUDY.replace("DATA", str(tmp_path / "absent")))
    completed = _suite(tmp_path, "validate", "study.toml", "--plan", "--no-check")
    assert completed.returncode == 2
    [line] = completed.stderr.strip().splitlines()
    assert line.startswith("study.toml: ok: ") and str(tmp_path / "absent") in line
    assert "plan /" not in line

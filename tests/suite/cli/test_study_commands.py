"""``suite run`` as a user meets it: where the results go, and which runs ``--only`` picks."""

import subprocess
import sys
from pathlib import Path

PLUGIN_STUDY = """
[study]
name = "plugin"

[defaults]
backend = "centroid"
dataset = { source = "digits", normalization = "unit" }
optimizer = { name = "sgd", lr = 0.5 }
training = { epochs = 1 }

[[experiments]]
name = "ok"
model = { name = "mlp2" }
"""


def _suite(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "suite", *args], capture_output=True, text=True, cwd=cwd)


def test_run_help_names_the_default_output_directory(tmp_path: Path) -> None:
    completed = _suite(tmp_path, "run", "--help")
    assert completed.returncode == 0
    words = completed.stdout.replace("│", " ").split()  # the help is boxed and wrapped
    assert "default: results/<study name>" in " ".join(words)


def test_run_without_out_says_where_it_writes_first(plugin_path: Path, tmp_path: Path) -> None:
    (tmp_path / "plugin.toml").write_text(PLUGIN_STUDY)
    completed = _suite(tmp_path, "run", "plugin.toml", "--no-check")
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert completed.stderr.splitlines()[0] == "output directory: results/plugin"
    assert (tmp_path / "results" / "plugin" / "study.json").is_file()


def test_a_missing_dataset_is_explained_whole_on_the_console(plugin_path: Path, tmp_path: Path) -> None:
    absent = tmp_path / "no_cifar"
    study = PLUGIN_STUDY.replace('source = "digits"', f'source = "cifar10", path = "{absent}"')
    (tmp_path / "plugin.toml").write_text(study)
    for quiet in ([], ["--quiet"]):  # shown as the run ends, or (quiet) in the summary
        completed = _suite(tmp_path, "run", "plugin.toml", "--no-check", "--out", "out", *quiet)
        assert completed.returncode == 1
        assert "DatasetUnavailableError: CIFAR-10 is not available" in completed.stderr
        assert f"Looked in:\n  - {absent}" in completed.stderr and "To provide it:" in completed.stderr
        assert completed.stderr.count("Looked in:") == 1

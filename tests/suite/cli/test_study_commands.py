"""``suite run`` as a user meets it: where the results go, and which runs ``--only`` picks."""

from pathlib import Path

from builders import plugin_study, run_suite

PLUGIN_STUDY = plugin_study({"ok": "mlp2"})


def test_run_help_names_the_default_output_directory(tmp_path: Path) -> None:
    completed = run_suite(tmp_path, "run", "--help")
    assert completed.returncode == 0
    words = completed.stdout.replace("│", " ").split()  # the help is boxed and wrapped
    assert "default: results/<study name>" in " ".join(words)


def test_run_without_out_says_where_it_writes_first(plugin_path: Path, tmp_path: Path) -> None:
    (tmp_path / "plugin.toml").write_text(PLUGIN_STUDY)
    completed = run_suite(tmp_path, "run", "plugin.toml", "--no-check")
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert completed.stderr.splitlines()[0] == "output directory: results/plugin"
    assert (tmp_path / "results" / "plugin" / "study.json").is_file()


def test_a_missing_dataset_is_explained_whole_on_the_console(plugin_path: Path, tmp_path: Path) -> None:
    absent = tmp_path / "no_cifar"
    study = PLUGIN_STUDY.replace('source = "digits"', f'source = "cifar10", path = "{absent}"')
    (tmp_path / "plugin.toml").write_text(study)
    for quiet in ([], ["--quiet"]):  # shown as the run ends, or (quiet) in the summary
        completed = run_suite(tmp_path, "run", "plugin.toml", "--no-check", "--out", "out", *quiet)
        assert completed.returncode == 1
        assert "DatasetUnavailableError: CIFAR-10 is not available" in completed.stderr
        assert f"Looked in:\n  - {absent}" in completed.stderr and "To provide it:" in completed.stderr
        assert completed.stderr.count("Looked in:") == 1

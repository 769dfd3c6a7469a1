"""``suite run --mlflow``: every run of a study in MLflow's default local store, logged from the stored results."""

import csv
import importlib.util
from pathlib import Path
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from suite import store
from suite.cli import app
from suite.execution.executor import run_study
from suite.spec.loader import load_study
from suite.tracking import export_study
from suite.tracking.stored import flatten

pytestmark = pytest.mark.skipif(importlib.util.find_spec("mlflow") is None, reason="needs the mlflow extra")

STORED = ("spec.toml", "plan.json", "history.csv")
DERIVED = ("confusion_matrix.csv", "confusion_matrix.png", "learning_curves.png")

STUDY_KEYED = """
[study]
name = "keyed"
tracking = {{ mlflow = "{uri}" }}

[[experiments]]
name = "one"
backend = "centroid"
dataset = {{ source = "digits", normalization = "unit", subset = {{ train = 200 }} }}
model = {{ name = "mlp2" }}
optimizer = {{ name = "sgd", lr = 0.5 }}
training = {{ epochs = 1 }}
"""


@pytest.fixture(scope="module")
def tracked(suite_cli, study_file: Path, tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """``suite run tracked.toml --out OUT --mlflow`` (the default local store), once for this module."""
    from mlflow.tracking import MlflowClient

    out = tmp_path_factory.mktemp("tracked") / "out"
    process = suite_cli("run", str(study_file), "--out", str(out), "--mlflow", "--quiet")
    client = MlflowClient(f"sqlite:///{out / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("tracked")
    return SimpleNamespace(out=out, process=process, client=client, experiment=experiment)


def _runs(tracked: SimpleNamespace) -> dict:
    found = tracked.client.search_runs([tracked.experiment.experiment_id])
    return {run.info.run_name: run for run in found}


def _run_dir(tracked: SimpleNamespace, run) -> Path:
    return store.run_dir(tracked.out, run.data.tags["tlbench.run_id"])


def _stored(tracked: SimpleNamespace, run) -> dict:
    return store.read_result(_run_dir(tracked, run))


def test_every_run_is_logged_in_the_study_experiment(tracked: SimpleNamespace) -> None:
    assert tracked.process["exit"] == 1  # one run failed on purpose
    assert tracked.process["frameworks"] == []  # neither the suite nor MLflow loaded a framework
    assert (tracked.out / "mlflow.db").is_file()
    assert tracked.experiment.artifact_location == (tracked.out / "mlartifacts").resolve().as_uri()
    runs = _runs(tracked)
    assert {name: run.info.status for name, run in runs.items()} == {"discriminative": "FINISHED", "raises": "FAILED"}
    assert {run.data.tags["tlbench.run_id"] for run in runs.values()} == {
        path.name for path in (tracked.out / "runs").iterdir()
    }


def test_params_tags_and_metric_histories_are_the_stored_results(tracked: SimpleNamespace) -> None:
    for name, run in _runs(tracked).items():
        result = _stored(tracked, run)
        assert run.data.params == flatten(result["spec"])
        assert run.data.params["optimizer.lr"] == "0.5" and run.data.params["backend"] == "centroid"
        assert run.data.tags["tlbench.backend"] == "centroid" and run.data.tags["tlbench.study"] == "tracked"
        if name == "raises":
            continue
        assert run.data.tags["tlbench.data_fingerprint"] == result["extra"]["data_fingerprint"]
        assert run.data.tags["tlbench.framework.numpy"] == result["environment"]["frameworks"]["numpy"]
        assert run.data.metrics["test_accuracy"] == pytest.approx(result["metrics"]["test_accuracy"])
        assert run.data.metrics["test_macro_f1"] == pytest.approx(result["metrics"]["test_macro_f1"])
        assert run.data.metrics["timing.train_seconds"] == pytest.approx(result["timing"]["train_seconds"])
        history = list(csv.DictReader((_run_dir(tracked, run) / store.HISTORY_FILE).open()))
        for column, metric in (
            ("val_loss", "val_loss"),
            ("train_accuracy", "train_accuracy"),
            ("seconds", "epoch_seconds"),
        ):
            logged = tracked.client.get_metric_history(run.info.run_id, metric)
            assert [(m.step, m.value) for m in sorted(logged, key=lambda m: m.step)] == [
                (int(row["epoch"]), pytest.approx(float(row[column]))) for row in history
            ]
    group_lrs = _runs(tracked)["discriminative"].data.metrics
    assert group_lrs["lr_hidden"] == pytest.approx(0.05) and group_lrs["lr_head"] == pytest.approx(0.5)


def test_artifacts_are_the_stored_files_plus_figures(tracked: SimpleNamespace, tmp_path: Path) -> None:
    run = _runs(tracked)["discriminative"]
    names = {artifact.path for artifact in tracked.client.list_artifacts(run.info.run_id)}
    assert names == {*STORED, *DERIVED, "group_learning_rates.png"}  # discriminative LRs: one rate per group
    local = Path(tracked.client.download_artifacts(run.info.run_id, "confusion_matrix.csv", str(tmp_path)))
    rows = [[int(cell) for cell in row[1:]] for row in list(csv.reader(local.open()))[1:]]
    assert rows == _stored(tracked, run)["metrics"]["confusion_matrix"]
    spec = Path(tracked.client.download_artifacts(run.info.run_id, "spec.toml", str(tmp_path)))
    assert spec.read_text() == (_run_dir(tracked, run) / store.SPEC_FILE).read_text()


def test_a_failed_run_is_FAILED_with_its_error(tracked: SimpleNamespace) -> None:
    run = _runs(tracked)["raises"]
    assert run.info.status == "FAILED" and run.data.tags["tlbench.status"] == "failed"
    assert run.data.tags["tlbench.error"].endswith("RuntimeError: boom: the runner failed on purpose")
    assert "boom" in run.data.tags["mlflow.note.content"]
    names = {artifact.path for artifact in tracked.client.list_artifacts(run.info.run_id)}
    assert {"spec.toml", "plan.json", "worker.log"} <= names and not names & set(DERIVED)


def test_the_executor_names_tensorboard_runs(tracked: SimpleNamespace) -> None:
    links = {path.name: path.resolve() for path in (tracked.out / "tensorboard").iterdir()}
    runs = _runs(tracked)
    assert set(links) == {"discriminative"}  # the failed run wrote no events
    assert links["discriminative"] == (_run_dir(tracked, runs["discriminative"]) / "tensorboard").resolve()


def test_the_study_file_can_ask_for_tracking(tracked: SimpleNamespace, plugin_path: Path, tmp_path: Path) -> None:
    spec = tmp_path / "keyed.toml"
    uri = f"sqlite:///{tracked.out / 'mlflow.db'}"  # an existing store: no second database to create
    spec.write_text(STUDY_KEYED.format(uri=uri))
    study = load_study(spec)
    assert study.mlflow == uri
    [record] = run_study(study, tmp_path / "out", quiet=True)
    experiment = tracked.client.get_experiment_by_name("keyed")
    [run] = tracked.client.search_runs([experiment.experiment_id])
    assert record.status == "completed" and run.info.status == "FINISHED"
    assert run.data.tags["tlbench.run_id"] == record.run_id


def test_reexport_does_not_duplicate_and_replaces_a_changed_run(tracked: SimpleNamespace) -> None:
    result = CliRunner().invoke(app, ["export", str(tracked.out), "--mlflow", "local"])
    assert result.exit_code == 0, result.output
    assert "0 logged, 0 replaced, 2 unchanged" in " ".join(result.output.split())
    before = {name: run.info.run_id for name, run in _runs(tracked).items()}

    failed = _run_dir(tracked, _runs(tracked)["raises"])  # as if it was rerun and failed differently
    store.write_json(failed / store.RESULT_FILE, {**store.read_result(failed), "error": "RuntimeError: again"})
    tracker = export_study(tracked.out, "local")
    assert dict(tracker.outcomes) == {"unchanged": 1, "replaced": 1} and not tracker.problems
    after = _runs(tracked)
    assert len(tracked.client.search_runs([tracked.experiment.experiment_id])) == 2
    assert after["raises"].data.tags["tlbench.error"] == "RuntimeError: again"
    assert (
        after["raises"].info.run_id != before["raises"]
        and after["discriminative"].info.run_id == before["discriminative"]
    )

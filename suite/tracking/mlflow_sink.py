"""Log stored runs to MLflow: one MLflow run per suite run, keyed by the ``tlbench.run_id`` tag.

MLflow is an optional extra and is imported lazily; it never loads a deep-learning framework (a test checks).
Re-logging a run whose stored files did not change does nothing; a changed run (e.g. rerun after a failure)
replaces its MLflow run, so the experiment holds one run per run id.
"""

from __future__ import annotations

import logging
import os
import socket
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from suite.tracking.stored import TAG_PREFIX, StoredRun

LOCAL = "local"
LOCAL_DB = "mlflow.db"
LOCAL_ARTIFACTS = "mlartifacts"
INSTALL_HINT = 'MLflow is not installed: pip install "tlbench[mlflow]"'
RUN_ID_TAG = TAG_PREFIX + "run_id"
FINGERPRINT_TAG = TAG_PREFIX + "fingerprint"
MLFLOW_STATUS = {"completed": "FINISHED", "running": "KILLED", "interrupted": "KILLED", "killed": "KILLED"}
"""MLflow's run status for each of suite.store.statuses (any other, e.g. diverged or timeout, is FAILED)."""
_MAX_PARAM = 6000  # MLflow's limits on a param and a tag value
_MAX_TAG = 8000


class TrackingUnavailableError(RuntimeError):
    """The tracker cannot be used (package missing, store unreachable); the message is one line."""


def resolve_mlflow_uri(uri: str, out_dir: Path) -> str:
    """``local`` -> ``sqlite:///OUT/mlflow.db`` (absolute); any other URI is returned unchanged."""
    return f"sqlite:///{(out_dir / LOCAL_DB).resolve()}" if uri == LOCAL else uri


def require_mlflow(uri: str) -> None:
    """TrackingUnavailableError (one line) when MLflow is not installed or ``uri`` names a store it cannot log to.

    Cheap (no connection, nothing written): ``suite run`` asks before it creates the output directory.
    """
    try:
        import mlflow  # noqa: F401
    except ImportError:
        raise TrackingUnavailableError(INSTALL_HINT) from None
    if uri != LOCAL:
        _check_scheme(uri)


class MlflowSink:
    """The study's MLflow experiment (named after the study) and the runs logged into it."""

    def __init__(self, uri: str, experiment: str) -> None:
        os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")
        try:
            from mlflow.tracking import MlflowClient
        except ImportError:
            raise TrackingUnavailableError(INSTALL_HINT) from None
        logging.getLogger("mlflow").setLevel(logging.WARNING)
        _check_scheme(uri)
        _check_reachable(uri)
        self.uri = uri
        try:
            self.client = MlflowClient(tracking_uri=uri)
            self.experiment_id = self._experiment(experiment, _local_artifact_root(uri))
        except Exception as exc:
            raise TrackingUnavailableError(f"mlflow: cannot use {uri}: {_one_line(exc)}") from exc

    def _experiment(self, name: str, artifact_root: str | None) -> str:
        experiment = self.client.get_experiment_by_name(name)
        if experiment is None:
            return self.client.create_experiment(name, artifact_location=artifact_root)
        if experiment.lifecycle_stage == "deleted":
            self.client.restore_experiment(experiment.experiment_id)
        return experiment.experiment_id

    def existing(self, run_id: str) -> list[Any]:
        """Active MLflow runs of the experiment tagged with suite ``run_id``."""
        query = f"tags.`{RUN_ID_TAG}` = '{run_id}'"
        return self.client.search_runs([self.experiment_id], filter_string=query, max_results=100)

    def log(self, run: StoredRun) -> str:
        """Log ``run``; returns ``logged``, ``replaced`` or ``unchanged``."""
        existing = self.existing(run.run_id)
        if len(existing) == 1 and existing[0].data.tags.get(FINGERPRINT_TAG) == run.fingerprint:
            return "unchanged"
        for old in existing:
            self.client.delete_run(old.info.run_id)
        self._log_new(run)
        return "replaced" if existing else "logged"

    def _log_new(self, run: StoredRun) -> None:
        tags = {key: _tail(value, _MAX_TAG) for key, value in run.tags.items()}
        tags["mlflow.source.name"] = "tlbench"
        if run.error:
            tags["mlflow.note.content"] = _tail(f"**{run.status}**\n\n```\n{run.error}\n```", _MAX_TAG)
        created = self.client.create_run(self.experiment_id, start_time=run.started_ms, tags=tags, run_name=run.name)
        mlflow_id = created.info.run_id
        try:
            self._log_data(mlflow_id, run)
            self._log_artifacts(mlflow_id, run)
        except BaseException:
            self.client.set_terminated(mlflow_id, "FAILED")
            raise
        # set last: a run interrupted while logging has no fingerprint and is replaced next time
        self.client.set_tag(mlflow_id, FINGERPRINT_TAG, run.fingerprint)
        self.client.set_terminated(mlflow_id, MLFLOW_STATUS.get(run.status, "FAILED"), end_time=run.finished_ms)

    def _log_data(self, mlflow_id: str, run: StoredRun) -> None:
        from mlflow.entities import Metric, Param

        stamp = run.finished_ms or run.started_ms or int(time.time() * 1000)
        params = [Param(key, value[:_MAX_PARAM]) for key, value in run.params.items()]
        metrics = [
            Metric(name, value, stamp, step) for name, points in run.epoch_metrics.items() for step, value in points
        ]
        metrics += [Metric(name, value, stamp, 0) for name, value in run.final_metrics.items()]
        self.client.log_batch(mlflow_id, metrics=metrics, params=params)

    def _log_artifacts(self, mlflow_id: str, run: StoredRun) -> None:
        for path in run.artifacts:
            self.client.log_artifact(mlflow_id, str(path))
        with tempfile.TemporaryDirectory(prefix="tlbench-mlflow-") as scratch:
            from suite.tracking.figures import write_figures  # matplotlib: only when MLflow logs a run

            for path in write_figures(run, Path(scratch)):
                self.client.log_artifact(mlflow_id, str(path))


SCHEMES = ("http", "https", "sqlite", "postgresql", "mysql", "mssql", "databricks", "databricks-uc", "uc")
"""Tracking URI schemes MLflow can log to (its file store is refused by MLflow 3 unless opted into)."""
_URI_HINT = "use --mlflow alone (OUT/mlflow.db), sqlite:///PATH/mlflow.db or http://HOST:PORT"


def _check_scheme(uri: str) -> None:
    """TrackingUnavailableError with the fix for a URI MLflow cannot log to (a file store, an unknown scheme)."""
    scheme = urlsplit(uri).scheme.lower()
    allowed_file_store = os.environ.get("MLFLOW_ALLOW_FILE_STORE", "").lower() in ("1", "true")
    if scheme in ("", "file") and not allowed_file_store:
        raise TrackingUnavailableError(f"mlflow: {uri}: MLflow no longer logs to a file store; {_URI_HINT}")
    if scheme not in (*SCHEMES, "file", ""):
        raise TrackingUnavailableError(
            f"mlflow: {uri}: unsupported scheme {scheme!r} (MLflow takes {', '.join(SCHEMES)}); {_URI_HINT}"
        )


def _check_reachable(uri: str, timeout_s: float = 5.0) -> None:
    """Fail in seconds on a server nobody answers at (MLflow's own retries take minutes)."""
    parts = urlsplit(uri)
    proxied = any(os.environ.get(name) for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"))
    if parts.scheme not in ("http", "https") or not parts.hostname or proxied:
        return
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        socket.create_connection((parts.hostname, port), timeout=timeout_s).close()
    except OSError as exc:
        raise TrackingUnavailableError(f"mlflow: cannot reach {uri}: {exc.strerror or exc}") from None


def _local_artifact_root(uri: str) -> str | None:
    """Artifacts of a SQLite store go beside its database (MLflow's default would be ./mlruns of the cwd)."""
    if not uri.startswith("sqlite:///"):
        return None
    database = Path(uri.removeprefix("sqlite:///")).resolve()
    database.parent.mkdir(parents=True, exist_ok=True)
    return (database.parent / LOCAL_ARTIFACTS).as_uri()


def _tail(text: str, limit: int) -> str:
    return text if len(text) <= limit else "..." + text[-(limit - 3) :]


def _one_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__

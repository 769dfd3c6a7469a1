"""Results where users already look: every stored run logged to MLflow, and TensorBoard runs named by run name.

Trackers read the stored results (``OUT/runs/<run_id>/``) after a run finishes, in the executor's
process, never inside a framework's worker, so every backend and executor is tracked the same way.
"""

from suite.tracking.mlflow_sink import LOCAL, TrackingUnavailableError, require_mlflow, resolve_mlflow_uri
from suite.tracking.study import StudyTracker, export_study

__all__ = ["LOCAL", "StudyTracker", "TrackingUnavailableError", "export_study", "require_mlflow", "resolve_mlflow_uri"]

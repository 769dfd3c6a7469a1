"""The ``suite`` command line: one module per command group, all registered on one Typer app.

``app`` holds the application and the entry point, ``study_commands`` run/export/report/plan-seeds,
``spec_commands`` validate, ``model_commands`` list/describe/parity, ``data_commands`` cache/prefetch,
``spec_loading`` and ``introspection`` their shared steps. Runs in the ``suite`` process and never imports a
deep-learning framework: training happens in workers (:mod:`suite.execution`), model questions in child
processes (:mod:`suite.preflight.introspect`). It may import every core package and ``reports`` (through
``reports``' package entry point only).
"""

from suite.cli import data_commands, model_commands, spec_commands, study_commands
from suite.cli.app import app, main, with_mlflow_default

__all__ = ["app", "data_commands", "main", "model_commands", "spec_commands", "study_commands", "with_mlflow_default"]

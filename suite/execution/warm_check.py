"""The preflight of ``suite run``, answered by the warm workers that will run the study.

Each backend's runs are checked (:func:`suite.preflight.check.check_runs`) inside the warm worker of the first
slot that will run them, so the framework is imported once for the checks and the training both; ``suite
validate`` asks one child process per backend as before. Runs in the ``suite`` process.
"""

from __future__ import annotations

from suite.execution.executor import job_environment, worker_group
from suite.execution.slots import make_slots
from suite.execution.warm import WarmLauncher, WorkerGone
from suite.preflight.check import CheckFailed, Problem, check_study
from suite.spec.loader import Study
from suite.spec.models import ExperimentSpec
from suite.spec.serialize import spec_to_toml


def check_in_workers(study: Study, launcher: WarmLauncher, jobs: int = 1) -> list[str]:
    """Every problem of every run, one line each, as :func:`suite.preflight.check.check_study` gives them."""
    slot = make_slots(jobs)[0]

    def ask(backend: str, engine: str | None, runs: list[ExperimentSpec]) -> list[Problem]:
        first = runs[0]
        texts = [spec_to_toml(run) for run in runs]
        try:
            return launcher.check(worker_group(first), job_environment(first, slot), slot.cpu_cores, texts)
        except WorkerGone as exc:
            raise CheckFailed(f"the warm worker ended before it answered: {exc}") from None

    return check_study(study, ask)

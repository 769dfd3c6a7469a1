"""The Optuna side: one Optuna study per configuration in ``OUT/tuning.db`` (SQLite), its sampler and pruner.

The sampler is created afresh before every ``ask`` with a seed drawn from the study's seed and the trial number,
so the trial sequence depends only on that seed and the results so far: PyTorch and Keras runs of one
configuration are offered the same values until their results differ, and an interrupted study asks on
exactly as an uninterrupted one would.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from suite.tuning.space import ParamSpec, TuneSpec

STORAGE_FILE = "tuning.db"
INSTALL_HINT = "pip install 'tlbench[tune]'"


def optuna_problem() -> str | None:
    """One line saying how to install Optuna when it is missing, else None."""
    try:
        import optuna  # noqa: F401
    except ImportError:
        return f"tune: this study tunes its configurations, which needs Optuna: {INSTALL_HINT}"
    return None


def storage_url(out_dir: Path) -> str:
    """``sqlite:////abs/OUT/tuning.db``: the storage the executor and every worker open."""
    return f"sqlite:///{(out_dir / STORAGE_FILE).resolve()}"


def open_storage(storage: str) -> Any:
    """The Optuna storage at ``storage`` (creates the SQLite file and its tables on first use)."""
    import optuna

    return optuna.storages.RDBStorage(storage)


def open_study(storage: str, name: str, tune: TuneSpec) -> Any:
    """The configuration's Optuna study (created on first use, loaded on every rerun)."""
    import optuna

    optuna.logging.set_verbosity(logging.WARNING)
    return optuna.create_study(
        storage=storage, study_name=name, direction=tune.direction, load_if_exists=True, pruner=make_pruner(tune)
    )


def sampler_for(tune: TuneSpec, seed: int, trial_number: int) -> Any:
    """The sampler that draws trial ``trial_number``: seeded from (study seed, trial number)."""
    import optuna

    mixed = (seed * 1_000_003 + trial_number) % 2**32
    if tune.sampler == "random":
        return optuna.samplers.RandomSampler(seed=mixed)
    return optuna.samplers.TPESampler(seed=mixed, n_startup_trials=tune.tpe_startup)


def make_pruner(tune: TuneSpec | dict[str, Any]) -> Any:
    """Median, successive halving (ASHA) or none, from the ``tune`` section (or its dumped dict, in a worker)."""
    import optuna

    tune = tune if isinstance(tune, TuneSpec) else TuneSpec.model_validate(tune)
    if tune.pruner == "median":
        return optuna.pruners.MedianPruner(
            n_startup_trials=tune.pruner_startup_trials, n_warmup_steps=tune.pruner_warmup_epochs
        )
    if tune.pruner == "asha":
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=tune.pruner_warmup_epochs + 1)
    return optuna.pruners.NopPruner()


def distributions(space: dict[str, ParamSpec]) -> dict[str, Any]:
    """Optuna distributions of the search space, by spec key."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    made: dict[str, Any] = {}
    for key, param in space.items():
        if param.kind == "choice":
            made[key] = CategoricalDistribution(param.choice)
        elif param.kind == "int":
            made[key] = IntDistribution(*param.bounds)
        else:
            made[key] = FloatDistribution(*param.bounds, log=param.kind == "log_uniform")
    return made

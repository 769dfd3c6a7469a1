"""Tuned comparisons: each configuration of a study gets the same search budget, chosen on validation only.

Owns the ``tune`` section of a study (:mod:`suite.tuning.space`), the Optuna study of each configuration in
``OUT/tuning.db`` (:mod:`suite.tuning.studies`), the trial and final run specs (:mod:`suite.tuning.specs`), the
tuning of one configuration through the executor (:mod:`suite.tuning.driver`, in the ``suite`` process), the
pruner's question after each epoch (:mod:`suite.tuning.trial_run`, in the worker) and ``OUT/tuning.json``, what the
report reads (:mod:`suite.tuning.summary`). Optuna is an optional extra (``pip install 'tlbench[tune]'``),
imported only when a study tunes; never a framework.
"""

from suite.tuning.space import ParamSpec, TuneSpec

__all__ = ["ParamSpec", "TuneSpec"]

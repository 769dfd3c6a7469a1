"""Report layer: reads stored study results and writes tables, figures and a markdown report.

It never trains and never imports a deep-learning framework. Public API::

    from reports import load_results, build_report
    frame = load_results([Path("out/study")])      # one tidy row per run
    path = build_report([Path("out/study")])       # out/study/report.md + out/study/figures/*.png
    text = plan_seeds(Path("out/study"), 0.5)      # seeds a target difference needs

This package is the one entry point the ``suite`` command line uses.
"""

from reports.build import build_report
from reports.plan import plan_seeds
from reports.tidy import load_results

__all__ = ["build_report", "load_results", "plan_seeds"]

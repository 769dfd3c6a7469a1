"""Report layer: reads stored study results and writes tables, figures and a markdown report.

It never trains and never imports a deep-learning framework. Public API::

    from reports import load_results, build_report
    frame = load_results([Path("out/study")])      # one tidy row per run
    path = build_report([Path("out/study")])       # out/study/report.md + out/study/figures/*.png
"""

from reports.build import build_report
from reports.tidy import load_results

__all__ = ["build_report", "load_results"]

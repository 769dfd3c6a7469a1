"""The one plotting stack: figures drawn off-screen (Agg, no pyplot state) in one style.

Owns the style (:mod:`~suite.plots.style`: colours per backend and run, figure size, saving) and the plots of one
run (:mod:`~suite.plots.run_plots`: learning curves, confusion matrix, per-group learning rates), drawn for the
markdown report (``reports/``) and for the files trackers attach to a run (:mod:`suite.tracking.figures`). Runs
in the ``suite`` process; imports matplotlib and pandas, never a deep-learning framework or ``reports``.
"""

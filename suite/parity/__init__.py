"""Cross-framework parity: whether two backends compute the same function from the same weights.

:mod:`~suite.parity.compare` (the ``suite parity`` command's work, in the ``suite`` process) starts one
:mod:`~suite.parity.probe` child process per backend and engine (``python -m suite.parity.probe``), which loads the
shared initial weights, predicts one batch and takes one SGD step; ``compare`` reports max |Δ logit| and max
|Δ weight|. May import ``suite.spec``, ``suite.plan``, ``suite.runners`` and ``suite.architectures``.
"""

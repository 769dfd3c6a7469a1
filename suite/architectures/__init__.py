"""Architectures as the core sees them: named layer groups and initial weights in a neutral layout.

Owns the selection of layer groups a strategy freezes or unfreezes (:mod:`~suite.architectures.groups`) and the
seed-drawn initial weights every backend loads for ``model.init = "shared"`` (:mod:`~suite.architectures.shared_init`),
and the parity notes: the documented differences between frameworks (:mod:`~suite.architectures.parity_notes`).
Pure numpy, imported by the worker, preflight and parity processes; may import ``suite.spec`` and
``suite.runners.protocol`` only.
"""

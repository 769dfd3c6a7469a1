"""The one epoch loop and the run every backend shares: batches, evaluation, stops, resume state, TensorBoard.

Runs in the worker process only (:mod:`suite.execution.worker` calls :func:`~suite.training.run.train_and_evaluate`
), driving a runner's session through its primitives; never imports a framework itself. May
import ``suite.spec``, ``suite.plan``, ``suite.data``, ``suite.augment``, ``suite.runners``, ``suite.store``,
``suite.metrics`` and ``suite.timing``.
"""

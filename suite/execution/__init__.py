"""Study execution: every run of a study executed once, each in its own worker process, N at a time.

Owns the executor (:mod:`~suite.execution.executor`: claims, skips, resumes, statuses), its terminal display,
the launchers that start one worker (local :mod:`~suite.execution.launch`, Ray :mod:`~suite.execution.ray_launcher`),
the division of a machine between jobs (:mod:`~suite.execution.slots`) and run locks (a worker's lifeline to its
executor is :mod:`suite.lifeline`). Processes: the
executor, launchers, slots and display run in the ``suite`` process; :mod:`~suite.execution.worker`
(``python -m suite.execution.worker RUN_DIR``) is the worker process, the only one that imports a framework (through
its runner); :mod:`~suite.execution.ray_node` and :mod:`~suite.execution.run_transfer` run on a Ray node. May import
``suite.spec``, ``suite.plan``, ``suite.training``, ``suite.runners``, ``suite.store`` and ``suite.tracking``; never
``suite.cli`` or ``reports``.
"""

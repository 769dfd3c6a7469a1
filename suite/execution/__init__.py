"""Study execution: every run of a study executed once, in worker processes of one backend each, N at a time.

Owns the executor (:mod:`~suite.execution.executor`: claims, skips, resumes, statuses), its terminal display and
time-left estimate (:mod:`~suite.execution.eta`), the launchers (warm workers reused per backend,
:mod:`~suite.execution.warm`, which also answer ``suite run``'s preflight, :mod:`~suite.execution.warm_check`;
one fresh process per run, :mod:`~suite.execution.launch`; Ray, :mod:`~suite.execution.ray_launcher` with its
pool of warm actors, :mod:`~suite.execution.ray_pool`), the division
of a machine between jobs (:mod:`~suite.execution.slots`) and run locks (a worker's lifeline to its executor is
:mod:`suite.lifeline`). Processes: the executor, launchers, slots and display run in the ``suite`` process;
:mod:`~suite.execution.worker` (``python -m suite.execution.worker RUN_DIR``, or ``--serve`` for a warm worker:
:mod:`~suite.execution.serve`) is the worker process, the only one that imports a framework (through its runner);
:mod:`~suite.execution.ray_node` and :mod:`~suite.execution.run_transfer` run on a Ray node. May import
``suite.spec``, ``suite.plan``, ``suite.training``, ``suite.runners``, ``suite.store``, ``suite.tracking`` and
``suite.preflight``; never ``suite.cli`` or ``reports``.
"""

"""The runner protocol every backend implements, and the registry that finds backends by name.

Owns :mod:`~suite.runners.protocol` (the framework primitives a runner supplies and the typed
:class:`~suite.runners.protocol.RunnerCapabilities` it declares), :mod:`~suite.runners.registry` (entry points
``suite.runners``; a backend whose framework is missing is listed as unavailable) and the per-epoch progress
events. Imported in every process; a runner itself is only instantiated in a worker or a child process.
May import ``suite.spec`` and ``suite.plan``.
"""

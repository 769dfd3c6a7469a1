"""Backend-neutral core of the transfer-learning benchmark suite; importing it never loads a framework.

Rooms by job (``docs/ARCHITECTURE.md`` draws the data's way through them): ``spec`` (validated study files),
``data`` and ``augment`` (plain arrays shared by every backend), ``architectures`` (layer groups, shared initial
weights), ``plan`` (the typed plan a runner executes), ``runners`` (protocol, capabilities, registry),
``training`` (the one epoch loop, in the worker), ``execution`` (executors, launchers, workers, locks),
``store`` (results on disk), ``tracking`` (MLflow, TensorBoard), ``preflight`` (checks before training),
``parity`` (same function in every backend) and ``cli`` (the ``suite`` command). At the root: ``metrics`` and
``timing`` (defined once for every backend), ``environment`` (the machine a run executed on) and ``lifeline``
(child processes that die with their parent: workers and preflight children).
"""

__version__ = "0.1.0"

"""Backend-neutral core of the transfer-learning benchmark suite.

Spec, data loading into plain arrays, the runner protocol and registry, metrics, the result store,
the executor and the CLI. Importing this package never loads torch, TensorFlow, Keras or JAX.
"""

__version__ = "0.1.0"

"""Keras 3 backend for the suite.

Importing this package registers the ``keras`` runner without importing Keras, TensorFlow,
JAX or torch; the framework is imported only when the runner is created (in the run's own
process, after the executor has set ``KERAS_BACKEND``).
"""

from __future__ import annotations

import importlib.util
import os

from suite.runners.registry import BackendUnavailableError, register_runner

_BACKEND_MODULES = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}


@register_runner(
    "keras",
    requires=("keras",),
    description="Keras 3 (model.fit) on the TensorFlow, JAX or torch Keras backend; keras.applications models",
)
def create_keras_runner():  # noqa: ANN201 - returns keras_impl.runner.KerasRunner, imported lazily
    """Create the Keras runner (imports Keras and its configured backend).

    Raises BackendUnavailableError, before Keras is imported, when ``KERAS_BACKEND`` names a framework that is
    not installed (``import keras`` would otherwise fail with a bare ImportError).
    """
    wanted = os.environ.get("KERAS_BACKEND", "tensorflow")
    module = _BACKEND_MODULES.get(wanted)
    if module is not None and importlib.util.find_spec(module) is None:
        extra = ' (pip install -e ".[jax]")' if wanted == "jax" else ""
        raise BackendUnavailableError(f"keras backend {wanted!r} is unavailable: pip install {module}{extra}")
    from keras_impl.runner import KerasRunner

    return KerasRunner()

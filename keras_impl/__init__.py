"""Keras 3 backend for the suite, on the TensorFlow, JAX or torch Keras engine.

Importing this package registers the ``keras`` runner without importing Keras or any engine; the framework
is imported only when the runner is created, in the run's own process, after the executor has set the
variables of :func:`keras_impl.environment.child_environment` (``KERAS_BACKEND``).
"""

from __future__ import annotations

from keras_impl.environment import DEFAULT_ENGINE, ENGINE_MODULES, child_environment
from suite.runners.registry import register_runner


@register_runner(
    "keras",
    requires=("keras",),
    description="Keras 3 on the TensorFlow, JAX or torch engine; mlp, simple_cnn and keras.applications models",
    engines=ENGINE_MODULES,
    default_engine=DEFAULT_ENGINE,
    child_environment=child_environment,
    extra="keras",
)
def create_keras_runner():  # noqa: ANN201 - returns keras_impl.runner.KerasRunner, imported lazily
    """Create the Keras runner (imports Keras and the engine ``KERAS_BACKEND`` names)."""
    from keras_impl.runner import KerasRunner

    return KerasRunner()

"""Keras 3 backend for the suite.

Importing this package registers the ``keras`` runner without importing Keras, TensorFlow,
JAX or torch; the framework is imported only when the runner is created (in the run's own
process, after the executor has set ``KERAS_BACKEND``).
"""

from __future__ import annotations

from suite.runners.registry import register_runner


@register_runner(
    "keras",
    requires=("keras",),
    description="Keras 3 (model.fit) on the TensorFlow, JAX or torch Keras backend; keras.applications models",
)
def create_keras_runner():  # noqa: ANN201 - returns keras_impl.runner.KerasRunner, imported lazily
    """Create the Keras runner (imports Keras and its configured backend)."""
    from keras_impl.runner import KerasRunner

    return KerasRunner()

"""Keras 3 backend for the suite, on the TensorFlow, JAX or torch Keras engine.

Importing this package registers the ``keras`` runner without importing Keras or any engine; the framework
is imported only when the runner is created, in the run's own process, after the executor has set the
variables of :func:`keras_impl.environment.child_environment` (``KERAS_BACKEND``).
"""

from __future__ import annotations

from keras_impl.environment import DEFAULT_ENGINE, ENGINE_MODULES, child_environment
from suite.runners.capabilities import RunnerCapabilities
from suite.runners.registry import register_runner

CAPABILITIES = RunnerCapabilities(
    resume_state=True,
    feature_cache=True,
    soft_labels=True,
    peft=("bias", "norm", "lora"),
    engines=ENGINE_MODULES,
    default_engine=DEFAULT_ENGINE,
    devices=("auto", "cpu", "cuda"),
    precisions=("auto", "fp32", "bf16", "fp16", "fp64"),
    models="mlp, simple_cnn and keras.applications backbones",
)
"""What the Keras runner supports (its one declaration; :class:`keras_impl.runner.KerasRunner` carries it)."""


@register_runner(
    "keras",
    requires=("keras",),
    capabilities=CAPABILITIES,
    description="Keras 3 on the TensorFlow, JAX or torch engine; mlp, simple_cnn and keras.applications models",
    child_environment=child_environment,
    extra="keras",
)
def create_keras_runner():  # noqa: ANN201 - returns keras_impl.runner.KerasRunner, imported lazily
    """Create the Keras runner (imports Keras and the engine ``KERAS_BACKEND`` names)."""
    from keras_impl.runner import KerasRunner

    return KerasRunner()

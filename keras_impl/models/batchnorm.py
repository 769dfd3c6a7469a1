"""BatchNormalization layers of the Keras runner: float64 kept on every engine, and torch's moving-variance update.

Keras computes BatchNormalization in ``backend.result_type(inputs.dtype, "float32")``, which is float64 on
TensorFlow but float32 on JAX and torch (Keras maps float64 to float32 there, "aligned with JAX's default"): under
``training.precision = "fp64"`` every BatchNorm of a network on those engines rounded its statistics to float32
(measured: MobileNetV2's one-step weights 9.8e-3 apart from torch's float64 step on the torch engine, 1.2e-7 on
TensorFlow). :class:`Float64BatchNormalization` keeps float64 inputs in float64; every other dtype takes Keras's path.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops


def _is_float64(dtype: Any) -> bool:
    return keras.backend.standardize_dtype(dtype) == "float64"


@keras.saving.register_keras_serializable(package="tlbench")
class Float64BatchNormalization(keras.layers.BatchNormalization):
    """Keras BatchNormalization that normalises float64 inputs in float64 on every engine (see the module)."""

    unbiased_moving_variance = False  # torch's running variance: n / (n - 1) times the batch variance

    def call(self, inputs: Any, training: bool | None = None, mask: Any = None) -> Any:  # noqa: D102
        updates = bool(training and self.trainable)
        own_update = updates and self.unbiased_moving_variance
        if mask is not None or self.renorm or not (_is_float64(inputs.dtype) or own_update):
            return super().call(inputs, training=training, mask=mask)
        dtype = "float64" if _is_float64(inputs.dtype) else keras.backend.result_type(inputs.dtype, "float32")
        values = ops.cast(inputs, dtype)
        if updates:
            mean, variance = self._moments(values, None)
            self._update_moving_statistics(values, mean, variance)
        else:
            mean, variance = ops.cast(self.moving_mean, dtype), ops.cast(self.moving_variance, dtype)
        gamma = ops.cast(self.gamma, dtype) if self.scale else None
        beta = ops.cast(self.beta, dtype) if self.center else None
        outputs = ops.batch_normalization(
            x=values, mean=mean, variance=variance, axis=self.axis, offset=beta, scale=gamma, epsilon=self.epsilon
        )
        return ops.cast(outputs, self.compute_dtype)

    def _update_moving_statistics(self, values: Any, mean: Any, variance: Any) -> None:
        if self.unbiased_moving_variance:
            count = ops.cast(ops.size(values), values.dtype) / ops.cast(ops.shape(values)[self.axis], values.dtype)
            variance = variance * count / ops.maximum(count - 1.0, 1.0)
        momentum = self.momentum
        self.moving_mean.assign(ops.cast(self.moving_mean, values.dtype) * momentum + mean * (1.0 - momentum))
        self.moving_variance.assign(
            ops.cast(self.moving_variance, values.dtype) * momentum + variance * (1.0 - momentum)
        )


@keras.saving.register_keras_serializable(package="tlbench")
class TorchBatchNormalization(Float64BatchNormalization):
    """BatchNormalization whose moving variance takes the unbiased batch variance, as torch's BatchNorm2d.

    Normalisation in training uses the biased batch variance in both frameworks; only the running estimate differs
    (torch multiplies the batch variance by n / (n - 1)), so this one update is written by hand.
    """

    unbiased_moving_variance = True


def _swap_batchnorm(model: keras.Model, replacement: type[keras.layers.BatchNormalization]) -> keras.Model:
    """A clone of the functional ``model`` (same layer names, configs and weights) with ``replacement`` BatchNorms."""

    def clone(layer: Any) -> Any:
        if type(layer) is keras.layers.BatchNormalization:
            return replacement.from_config(layer.get_config())
        return layer.__class__.from_config(layer.get_config())

    cloned = keras.models.clone_model(keras.Model(model.input, model.output), clone_function=clone)
    cloned.set_weights(model.get_weights())
    return cloned


def with_torch_batchnorm(model: keras.Model) -> keras.Model:
    """A clone of the functional ``model`` (same layer names and configs) with every BatchNormalization torch's."""
    return _swap_batchnorm(model, TorchBatchNormalization)


def keeping_float64(model: keras.Model) -> keras.Model:
    """``model`` itself, or under the float64 dtype policy a clone whose BatchNorms stay float64 on every engine."""
    plain = any(type(layer) is keras.layers.BatchNormalization for layer in model.layers)
    if keras.config.dtype_policy().name != "float64" or not plain:
        return model
    return _swap_batchnorm(model, Float64BatchNormalization)

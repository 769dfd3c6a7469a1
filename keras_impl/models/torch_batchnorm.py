"""BatchNormalization with torch's update rule, for the catalog's architectures that must match torch exactly."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="tlbench")
class TorchBatchNormalization(keras.layers.BatchNormalization):
    """Keras BatchNormalization whose moving variance takes the unbiased batch variance, as torch's BatchNorm2d.

    Normalisation in training uses the biased batch variance in both frameworks; only the running estimate differs
    (torch multiplies the batch variance by n / (n - 1)), so this one update is written by hand.
    """

    def call(self, inputs: Any, training: bool | None = None, mask: Any = None) -> Any:  # noqa: D102
        if not (training and self.trainable) or mask is not None or self.renorm:
            return super().call(inputs, training=training, mask=mask)
        values = ops.cast(inputs, keras.backend.result_type(inputs.dtype, "float32"))
        mean, variance = self._moments(values, None)
        count = ops.cast(ops.size(values), values.dtype) / ops.cast(ops.shape(values)[self.axis], values.dtype)
        unbiased = variance * count / ops.maximum(count - 1.0, 1.0)
        momentum = self.momentum
        self.moving_mean.assign(ops.cast(self.moving_mean, values.dtype) * momentum + mean * (1.0 - momentum))
        self.moving_variance.assign(
            ops.cast(self.moving_variance, values.dtype) * momentum + unbiased * (1.0 - momentum)
        )
        gamma = ops.cast(self.gamma, values.dtype) if self.scale else None
        beta = ops.cast(self.beta, values.dtype) if self.center else None
        outputs = ops.batch_normalization(
            x=values, mean=mean, variance=variance, axis=self.axis, offset=beta, scale=gamma, epsilon=self.epsilon
        )
        return ops.cast(outputs, self.compute_dtype)


def with_torch_batchnorm(model: keras.Model) -> keras.Model:
    """A clone of the functional ``model`` (same layer names and configs) with every BatchNormalization torch's."""

    def clone(layer: Any) -> Any:
        if type(layer) is keras.layers.BatchNormalization:
            return TorchBatchNormalization.from_config(layer.get_config())
        return layer.__class__.from_config(layer.get_config())

    return keras.models.clone_model(keras.Model(model.input, model.output), clone_function=clone)

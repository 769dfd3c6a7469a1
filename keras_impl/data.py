"""Model inputs from the core's batches.

Float32 NHWC numpy goes to Keras as it is, after the model's own ``preprocess_input`` when it has one
(keras.applications backbones fed 0..255 images).
"""

from __future__ import annotations

import numpy as np

from keras_impl.models.registry import BuiltModel


def model_input(built: BuiltModel, batch: np.ndarray) -> np.ndarray:
    """The array ``built.model`` takes for the preprocessed image ``batch``."""
    batch = np.asarray(batch, dtype=np.float32)
    return built.preprocess(batch) if built.preprocess is not None else batch

"""The frozen-prefix feature cache: the cut model is the same function; a cached run equals an uncached one."""

import keras
import numpy as np
import pytest
from builders import keras_spec

from keras_impl.feature_cache import prefix_model, suffix_model
from keras_impl.models import build_model
from suite.spec.models import ModelSpec


def test_prefix_then_suffix_is_the_full_model_with_shared_layers():
    built = build_model(ModelSpec(name="keras_mobilenet_v2"), (32, 32, 3), 10)
    prefix = [f"features.{index}" for index in range(5)]  # cut after a residual block's Add
    images = np.random.default_rng(0).random((2, 32, 32, 3), dtype=np.float32)
    head, tail = prefix_model(built, prefix), suffix_model(built, prefix)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(tail(head(images))), keras.ops.convert_to_numpy(built.model(images)), atol=1e-5
    )
    shared = {id(layer) for layer in built.model.layers}
    assert all(id(layer) in shared for layer in tail.layers if layer.weights)


def _cached_and_uncached(run, data, model: dict, strategy: dict, epochs: int) -> tuple:
    outputs = {}
    for cache in (True, False):
        training = {"epochs": epochs, "batch_size": 32, "feature_cache": cache}
        outputs[cache] = run(keras_spec(model, strategy=strategy, training=training), data)
    cached, plain = outputs[True], outputs[False]
    assert cached.extra["feature_cache"]["active"] and not plain.extra["feature_cache"]["active"]
    for with_cache, without in zip(cached.history, plain.history, strict=True):
        assert abs(with_cache["val_loss"] - without["val_loss"]) < 1e-4
        assert abs(with_cache["train_loss"] - without["train_loss"]) < 1e-4
    np.testing.assert_allclose(cached.test_scores, plain.test_scores, atol=1e-4)
    return cached, plain


def test_cached_run_equals_the_uncached_run(run, digits):
    cached, _ = _cached_and_uncached(run, digits, {"name": "simple_cnn"}, {"freeze": ["conv1", "conv2"]}, 3)
    assert cached.extra["feature_cache"]["groups"] == ["conv1", "conv2"]
    assert cached.extra["feature_cache"]["shape"] == [2, 2, 64]


@pytest.mark.slow
def test_cached_head_only_mobilenet_v2_equals_the_uncached_run(run, digits_rgb32):
    cached, _ = _cached_and_uncached(run, digits_rgb32, {"name": "keras_mobilenet_v2"}, {"freeze": "all_but_head"}, 2)
    assert cached.extra["feature_cache"]["groups"][-1] == "features.18"

"""The neutral init layout on Keras models: slot names, shapes and fan-ins, exact loading and export."""

import numpy as np
import pytest
from builders import keras_spec

from keras_impl.models import build_model
from keras_impl.shared_weights import init_slots
from suite.spec.models import ModelSpec


def _slots(name: str, shape: tuple[int, int, int], **model):
    return init_slots(build_model(ModelSpec(name=name, **model), shape, 10))


def test_mlp_slots():
    slots = _slots("mlp", (8, 8, 1))
    assert [(slot.name, slot.shape, slot.fan_in) for slot in slots] == [
        ("hidden1.0.dense_kernel", (64, 128), 64),
        ("hidden1.0.bias", (128,), 64),
        ("hidden2.0.dense_kernel", (128, 64), 128),
        ("hidden2.0.bias", (64,), 128),
        ("head.0.dense_kernel", (64, 10), 64),
        ("head.0.bias", (10,), 64),
    ]


def test_simple_cnn_slots():
    slots = _slots("simple_cnn", (32, 32, 3))
    assert [(slot.name, slot.kind, slot.shape, slot.fan_in) for slot in slots] == [
        ("conv1.0.conv_kernel", "conv_kernel", (3, 3, 3, 32), 27),
        ("conv1.0.bias", "bias", (32,), 27),
        ("conv2.0.conv_kernel", "conv_kernel", (3, 3, 32, 64), 288),
        ("conv2.0.bias", "bias", (64,), 288),
        ("dense.0.dense_kernel", "dense_kernel", (8 * 8 * 64, 512), 4096),
        ("dense.0.bias", "bias", (512,), 4096),
        ("head.0.dense_kernel", "dense_kernel", (512, 10), 512),
        ("head.0.bias", "bias", (10,), 512),
    ]


def test_mobilenet_v2_slots():
    slots = _slots("keras_mobilenet_v2", (32, 32, 3))
    names = [slot.name for slot in slots]
    assert names[:6] == [
        "features.0.0.conv_kernel",
        "features.0.1.bn_gamma",
        "features.0.1.bn_beta",
        "features.0.1.bn_mean",
        "features.0.1.bn_var",
        "features.1.0.depthwise_kernel",
    ]
    depthwise = slots[5]
    assert (depthwise.shape, depthwise.fan_in) == ((3, 3, 32, 1), 9)
    assert names[-2:] == ["head.0.dense_kernel", "head.0.bias"]
    assert slots[-2].shape == (1280, 10)
    learnable = [slot for slot in slots if slot.kind not in ("bn_mean", "bn_var")]
    assert sum(int(np.prod(slot.shape)) for slot in learnable) == 2_223_872 + 12_810


@pytest.mark.parametrize(("name", "shape"), [("mlp", (8, 8, 1)), ("keras_resnet50", (32, 32, 3))])
def test_shared_init_loads_exactly(session, name, shape):
    spec = keras_spec({"name": name, "init": "shared"})
    opened, _, initial = session(spec, shape, shared=True)
    exported = opened.export_weights()
    assert len(exported) == len(initial)
    for got, expected in zip(exported, initial, strict=True):
        np.testing.assert_array_equal(got, expected)

from collections import OrderedDict

import numpy as np
import pytest
import torch

from suite.architectures.shared_init import draw_initial_weights
from suite.data.preprocess import Preprocessing
from suite.spec.models import ModelSpec
from torch_impl.models import BuiltModel
from torch_impl.runner import TorchRunner
from torch_impl.shared_weights import load_weights, slot_bindings

SHARED = [
    ({"name": "mlp"}, (4, 4, 3), 6),
    ({"name": "simple_cnn"}, (8, 8, 3), 8),
    ({"name": "keras_resnet50"}, (32, 32, 3), 320),
]


def slots(model: dict, shape: tuple[int, int, int], classes: int = 10):
    """The neutral layout of any torch model (describe lists it for the catalog's shared ones only)."""
    from torch_impl.models import build_model
    from torch_impl.shared_weights import init_slots

    return init_slots(build_model(ModelSpec(**model), shape, classes), shape)


def images(shape: tuple[int, int, int], count: int = 3) -> np.ndarray:
    return np.random.default_rng(1).uniform(0, 1, (count, *shape)).astype(np.float32)


def test_mlp_and_simple_cnn_slot_names_shapes_and_fan_in():
    mlp = slots({"name": "mlp"}, (28, 28, 1))
    assert [(s.name, s.shape, s.fan_in) for s in mlp] == [
        ("hidden1.0.dense_kernel", (784, 128), 784), ("hidden1.0.bias", (128,), 784),
        ("hidden2.0.dense_kernel", (128, 64), 128), ("hidden2.0.bias", (64,), 128),
        ("head.0.dense_kernel", (64, 10), 64), ("head.0.bias", (10,), 64),
    ]  # fmt: skip
    cnn = slots({"name": "simple_cnn"}, (32, 32, 3))
    assert [(s.name, s.kind, s.shape, s.fan_in) for s in cnn] == [
        ("conv1.0.conv_kernel", "conv_kernel", (3, 3, 3, 32), 27), ("conv1.0.bias", "bias", (32,), 27),
        ("conv2.0.conv_kernel", "conv_kernel", (3, 3, 32, 64), 288), ("conv2.0.bias", "bias", (64,), 288),
        ("dense.0.dense_kernel", "dense_kernel", (4096, 512), 4096), ("dense.0.bias", "bias", (512,), 4096),
        ("head.0.dense_kernel", "dense_kernel", (512, 10), 512), ("head.0.bias", "bias", (10,), 512),
    ]  # fmt: skip


def test_mobilenet_v2_slots_follow_the_forward_pass():
    layout = {s.name: s for s in slots({"name": "mobilenet_v2"}, (32, 32, 3))}
    assert list(layout)[:6] == [
        "features.0.0.conv_kernel", "features.0.1.bn_gamma", "features.0.1.bn_beta", "features.0.1.bn_mean",
        "features.0.1.bn_var", "features.1.0.depthwise_kernel",
    ]  # fmt: skip
    assert layout["features.1.0.depthwise_kernel"].shape == (3, 3, 32, 1)
    assert layout["features.1.0.depthwise_kernel"].fan_in == 9
    assert layout["features.2.0.conv_kernel"].shape == (1, 1, 16, 96)  # expansion 1x1 of the second block
    assert layout["features.18.0.conv_kernel"].shape == (1, 1, 320, 1280)
    assert list(layout)[-2:] == ["head.0.dense_kernel", "head.0.bias"]
    assert layout["head.0.dense_kernel"].shape == (1280, 10)


@pytest.mark.parametrize(("model", "shape", "count"), SHARED)
def test_slots_cover_every_weight_and_statistic(model, shape, count):
    description = TorchRunner().describe(ModelSpec(**model), shape, 10)
    sizes = {kind: 0 for kind in ("learnable", "statistics")}
    for slot in description.init_slots:
        sizes["statistics" if slot.kind in ("bn_mean", "bn_var") else "learnable"] += int(np.prod(slot.shape))
    assert len(description.init_slots) == count
    assert sizes == {"learnable": description.params.total, "statistics": description.params.buffers}


@pytest.mark.parametrize(("model", "shape", "count"), SHARED)
def test_shared_init_loads_exactly(model, shape, count, spec_for, session_for, digits):
    spec = spec_for({**model, "init": "shared"}, dataset={"channels": 3, "image_size": shape[0]})
    data = _bundle_like(digits, shape)
    initial = draw_initial_weights(slots(model, shape), seed=0)
    with session_for(spec, data, initial) as session:
        exported = session.export_weights()
    assert len(exported) == len(initial) == count
    for got, want in zip(exported, initial, strict=True):
        np.testing.assert_array_equal(got, want)


def test_flattened_dense_kernel_takes_nhwc_rows(spec_for, session_for, digits):
    """A numpy forward pass in the neutral (Keras) layout gives the torch session's logits."""
    shape = (4, 4, 3)
    spec = spec_for({"name": "mlp", "init": "shared"}, dataset={"channels": 3, "image_size": 4})
    weights = draw_initial_weights(slots({"name": "mlp"}, shape), seed=7)
    inputs = images(shape)
    with session_for(spec, _bundle_like(digits, shape), weights) as session:
        logits = session.predict(inputs)
    hidden = inputs.reshape(len(inputs), -1)  # NHWC flatten, as Keras does
    for index in range(0, 4, 2):
        hidden = np.maximum(hidden @ weights[index] + weights[index + 1], 0)
    np.testing.assert_allclose(logits, hidden @ weights[4] + weights[5], rtol=1e-5, atol=1e-5)


def test_simple_cnn_dense_after_flatten_takes_nhwc_rows(spec_for, session_for, digits):
    shape = (8, 8, 3)
    spec = spec_for({"name": "simple_cnn", "init": "shared"}, dataset={"channels": 3, "image_size": 8})
    weights = draw_initial_weights(slots({"name": "simple_cnn"}, shape), seed=7)
    inputs = images(shape)
    with session_for(spec, _bundle_like(digits, shape), weights) as session:
        logits = session.predict(inputs)
        conv = torch.nn.Sequential(session.built.module.conv1, session.built.module.conv2)
        with torch.no_grad():
            maps = conv(torch.from_numpy(inputs).permute(0, 3, 1, 2).contiguous()).permute(0, 2, 3, 1).numpy()
    dense = np.maximum(maps.reshape(len(inputs), -1) @ weights[4] + weights[5], 0)
    np.testing.assert_allclose(logits, dense @ weights[6] + weights[7], rtol=1e-4, atol=1e-5)


def test_shared_init_run_starts_from_the_drawn_weights(digits, spec_for, run, tmp_path):
    spec = spec_for({"name": "mlp", "init": "shared", "dropout": 0.0}, training={"epochs": 1, "deterministic": True})
    first, second = run(spec, digits, tmp_path / "a"), run(spec, digits, tmp_path / "b")
    assert first.extra["init"] == "shared"
    assert first.extra["parity_probe"]["logits"] == second.extra["parity_probe"]["logits"]
    other = run(spec.model_copy(update={"seed": 1}), digits, tmp_path / "c")
    assert other.extra["parity_probe"]["logits"] != first.extra["parity_probe"]["logits"]


def _bundle_like(digits, shape):
    preprocessing = Preprocessing(image_size=shape[0], channels=shape[2], normalization="unit")
    return type(digits)(digits.train, digits.val, digits.test, digits.class_names, preprocessing, digits.source)


def test_depthwise_kernel_layout_matches_a_numpy_depthwise_convolution():
    depthwise = torch.nn.Conv2d(4, 4, 3, padding=1, groups=4, bias=False)
    module = torch.nn.Sequential(
        OrderedDict(dw=depthwise, head=torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(100, 2)))
    )
    built = BuiltModel(module, {"dw": [depthwise], "head": [module.head]}, staged=True)
    bindings = slot_bindings(built, (5, 5, 4))
    assert [b.slot.name for b in bindings] == ["dw.0.depthwise_kernel", "head.0.dense_kernel", "head.0.bias"]
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(b.slot.shape).astype(np.float32) for b in bindings]
    load_weights(bindings, arrays)
    inputs = images((5, 5, 4), 2)
    with torch.no_grad():
        got = depthwise(torch.from_numpy(inputs).permute(0, 3, 1, 2)).permute(0, 2, 3, 1).numpy()
    padded, kernel = np.pad(inputs, ((0, 0), (1, 1), (1, 1), (0, 0))), arrays[0][..., 0]
    want = sum(padded[:, i : i + 5, j : j + 5, :] * kernel[i, j] for i in range(3) for j in range(3))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)

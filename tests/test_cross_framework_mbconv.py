"""keras.applications' MobileNetV2, MobileNetV3Large and EfficientNetB0 / B3 (``keras_<name>``) in both runners.

The torch twin is the same function with the same weights: a ``.weights.h5`` saved by Keras loads into torch and
back bit for bit, both give the same logits from it, the no-top parameter counts are Keras' published ones in both,
and seed 003's fine-tuning of ``base_model.layers[-10:]`` trains the same 745,290 parameters in both.
"""

from pathlib import Path

import numpy as np
import pytest
from builders import legacy_h5

from suite.runners.registry import discover
from suite.spec.models import ModelSpec

pytestmark = pytest.mark.skipif(
    not all(entry.availability()[0] for entry in discover().values()), reason="needs both backends installed"
)
SHAPE = (32, 32, 3)
ENTRIES = [
    "keras_mobilenet_v2",
    "keras_mobilenet_v3_large",
    "keras_efficientnet_b0",
    pytest.param("keras_efficientnet_b3", marks=pytest.mark.slow),
]


def _keras(name: str, weights: str = "none", **model):
    import keras

    from keras_impl.models import build_model

    keras.backend.clear_session()
    return build_model(ModelSpec(name=name, weights=weights, **model), SHAPE, 10)


def _torch(name: str, weights: str = "none", **model):
    from torch_impl.models import build_model

    return build_model(ModelSpec(name=name, weights=weights, **model), SHAPE, 10)


def _randomise(built) -> None:
    """Every Keras variable random, BatchNorm and Normalization statistics included; kernels scaled by fan-in.

    (Unscaled kernels drive most pre-activations far past ReLU6's kinks, where float32 rounding alone moves logits.)
    """
    import keras

    rng = np.random.default_rng(7)
    for layer in built.model.layers:
        for variable in layer.weights:
            shape = tuple(variable.shape)
            if len(shape) >= 2:
                fan_in = (
                    int(np.prod(shape[:-1]))
                    if not isinstance(layer, keras.layers.DepthwiseConv2D)
                    else shape[0] * shape[1]
                )
                array = rng.normal(0.0, 1.0 / np.sqrt(fan_in), shape)
            elif "variance" in variable.path or "gamma" in variable.path:
                array = rng.uniform(0.5, 1.5, shape)
            else:
                array = rng.uniform(-0.5, 0.5, shape)
            variable.assign(array.astype(variable.dtype))
        if isinstance(layer, keras.layers.Normalization):
            layer.finalize_state()


@pytest.mark.parametrize("name", ENTRIES)
def test_a_keras_weights_file_loads_into_torch_and_back_bitwise_and_computes_the_same(
    name: str, tmp_path: Path
) -> None:
    import keras
    import torch

    from torch_impl.models.shared import neutral_state

    source = _keras(name)
    _randomise(source)
    source.model.save_weights(str(tmp_path / "keras.weights.h5"))  # Keras' own file: layers named by class
    expected = {v.path: keras.ops.convert_to_numpy(v).copy() for v in source.model.weights}
    images = np.random.default_rng(3).uniform(0, 1, (2, *SHAPE)).astype(np.float32)
    keras_logits = keras.ops.convert_to_numpy(source.model(images, training=False))
    twin = _torch(name, str(tmp_path / "keras.weights.h5"))
    twin.module.eval()
    with torch.no_grad():
        torch_logits = twin.module(torch.from_numpy(images).permute(0, 3, 1, 2)).numpy()
    np.testing.assert_allclose(torch_logits, keras_logits, rtol=0, atol=1e-4 * max(1.0, np.abs(keras_logits).max()))
    torch.save({"state_dict": neutral_state(twin)}, tmp_path / "torch.pt")
    back = _keras(name, str(tmp_path / "torch.pt"))
    got = {v.path: keras.ops.convert_to_numpy(v) for v in back.model.weights}
    assert got.keys() == expected.keys()
    for key in expected:
        np.testing.assert_array_equal(got[key], expected[key], err_msg=key)
    assert back.notes["weights_fingerprint"] == twin.weights_fingerprint


@pytest.mark.parametrize("name", ENTRIES)
def test_the_no_top_base_has_keras_published_parameter_count_in_both(name: str) -> None:
    """Keras' convention: BatchNorm moving statistics and Normalization's 7 numbers counted."""
    from suite.architectures.catalog import architecture
    from suite.runners.registry import create_runner

    published = architecture(name).options["base_params"]
    assert _keras(name).base.count_params() == published
    twin = _torch(name)
    body = [module for group, modules in twin.groups.items() if group != "head" for module in modules]
    params = sum(p.numel() for module in body for p in module.parameters())
    buffers = sum(b.numel() for module in body for b in module.buffers() if b.is_floating_point())
    assert params + buffers == published
    counts = {
        backend: create_runner(backend).describe(ModelSpec(name=name), SHAPE, 10).params
        for backend in ("torch", "keras")
    }
    assert counts["torch"].groups == counts["keras"].groups
    assert counts["torch"].buffers == counts["keras"].buffers


def test_seed003_unfreezes_the_same_last_10_keras_layers_in_both() -> None:
    """Seed 003: MobileNetV2 at 32 px, Flatten + Dense(10); 12,810 trainable, then 745,290 with layers[-10:]."""
    from keras_impl.freezing import apply_trainable as keras_trainable
    from keras_impl.params import count_params as keras_count
    from suite.plan.plan import TrainableSet
    from torch_impl.freezing import apply_trainable as torch_trainable
    from torch_impl.params import count_params as torch_count

    keras_built, torch_built = (
        _keras("keras_mobilenet_v2", head="flatten"),
        _torch("keras_mobilenet_v2", head="flatten"),
    )
    assert keras_built.model.count_params() == 2_270_794
    for last, expected in ((None, 12_810), (10, 745_290)):
        keras_trainable(keras_built, TrainableSet(("head",), last_layers=last))
        torch_trainable(torch_built, TrainableSet(("head",), last_layers=last))
        assert keras_count(keras_built).trainable == torch_count(torch_built).trainable == expected
    first = [name for name, module in torch_built.keras_layers[-10:] if module is not None][0]
    assert first == "block_16_expand_BN" == keras_built.backbone_layers[-10].name


@pytest.mark.parametrize(("name", "bound"), [("keras_mobilenet_v2", 1e-10), ("keras_mobilenet_v3_large", 1e-8)])
def test_one_sgd_step_of_the_mobilenets_is_the_same_in_float64(name: str, bound: float) -> None:
    """Train-mode forward, backward, SGD step and BatchNorm statistics agree in float64.

    In float32 their one-step weights are ill-conditioned (ReLU6 / hard-swish kinks; see
    ``tests/suite/parity/test_parity_keras_mbconv.py``), so this is the proof of the step. MobileNetV3's train-mode
    forward agrees to 5e-13 and its step to 2.8e-9 at 32 px (BatchNorm over 8 values per channel in its last
    blocks amplifies float64 rounding; 4e-10 at 64 px); a float32-rounded Rescaling constant alone moved it by 1.2e-6.
    """
    from float64_step import keras_step, torch_step

    torch_after, keras_after = torch_step(name, SHAPE), keras_step(name, SHAPE)
    assert torch_after.keys() == keras_after.keys()
    worst = max(float(np.abs(torch_after[key] - keras_after[key]).max()) for key in torch_after)
    assert worst < bound, worst


@pytest.mark.parametrize("name", ["keras_efficientnet_b0", "keras_mobilenet_v3_large"])
def test_keras_imagenet_cache_file_gives_both_runners_the_same_function(name: str, tmp_path: Path, monkeypatch) -> None:
    """``weights = "imagenet"``: Keras' no-top file (here random, Normalization's statistics and count included)."""
    import keras
    import torch

    from suite.architectures.catalog import architecture

    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    source = _keras(name)
    _randomise(source)
    layers = {layer.name: [keras.ops.convert_to_numpy(v) for v in layer.weights] for layer in source.base.layers}
    (tmp_path / "models").mkdir()
    legacy_h5(tmp_path / "models" / architecture(name).options["weights_file"], {k: v for k, v in layers.items() if v})
    keras_built, torch_built = _keras(name, "imagenet"), _torch(name, "imagenet")
    images = np.random.default_rng(5).uniform(0, 1, (2, *SHAPE)).astype(np.float32)
    keras_features = keras.ops.convert_to_numpy(keras_built.base(images, training=False))  # the heads are new
    body = torch.nn.Sequential(*list(torch_built.module.children())[:-1]).eval()
    with torch.no_grad():
        torch_features = body(torch.from_numpy(images).permute(0, 3, 1, 2)).permute(0, 2, 3, 1).numpy()
    scale = max(1.0, float(np.abs(keras_features).max()))
    np.testing.assert_allclose(torch_features, keras_features, rtol=0, atol=1e-4 * scale)
    assert keras_built.notes["weights_fingerprint"] == torch_built.weights_fingerprint

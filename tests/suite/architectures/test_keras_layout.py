"""The keras.applications layout without a framework: declarations, converter kinds, file names, weights paths."""

from pathlib import Path

import numpy as np
import pytest

from suite.architectures.catalog import CATALOG, architecture, keras_twin
from suite.architectures.convert import LayerPair, layer_table, to_keras, to_neutral
from suite.architectures.keras_layout import (
    HEAD_LAYER,
    KerasLayer,
    check_declared_groups,
    keras_file_names,
    keras_layers,
)
from suite.architectures.weight_files import published_file, resolve_weights_file, shared_weights_problems
from suite.spec.models import ModelSpec

KERAS_LAYOUT = [arch for arch in CATALOG if arch.layout == "keras.applications"]


@pytest.mark.parametrize("arch", KERAS_LAYOUT, ids=lambda arch: arch.name)
def test_declared_layers_are_unique_grouped_in_order_and_give_the_table(arch) -> None:  # noqa: ANN001
    layers = keras_layers(arch)
    assert len({layer.name for layer in layers}) == len(layers)
    check_declared_groups(arch)
    table = layer_table(arch)
    assert [pair.keras for pair in table] == [*(layer.name for layer in layers if layer.weighted), HEAD_LAYER]
    assert all(pair.torch == pair.keras for pair in table) and table[-1].head
    names = keras_file_names(arch)
    assert sorted(names.values()) == sorted(pair.keras for pair in table)
    assert arch.name.startswith("keras_") and keras_twin(arch.name.removeprefix("keras_")) == arch.name


def test_resnet_v1_blocks_put_the_shortcut_where_keras_does() -> None:
    names = [layer.name for layer in keras_layers(architecture("keras_resnet50"))]
    assert names[:8] == ["conv1_pad", "conv1_conv", "conv1_bn", "conv1_relu", "pool1_pad", "pool1_pool",
                         "conv2_block1_1_conv", "conv2_block1_1_bn"]  # fmt: skip
    first = names.index("conv2_block1_0_conv")
    assert names[first : first + 4] == ["conv2_block1_0_conv", "conv2_block1_3_conv", "conv2_block1_0_bn",
                                        "conv2_block1_3_bn"]  # fmt: skip
    assert len(names) == 174 and names[-1] == "conv5_block3_out"
    assert keras_file_names(architecture("keras_resnet50"))["conv2d_1"] == "conv2_block1_1_conv"


def _round_trip(pair: LayerPair, arrays: list[np.ndarray]) -> tuple[list[np.ndarray], dict[str, np.ndarray]]:
    neutral = dict(zip(pair.torch_keys(), arrays, strict=True))
    keras = to_keras(neutral, [pair])[pair.keras]
    back = to_neutral({pair.keras: keras}, [pair])
    for key, array in neutral.items():
        np.testing.assert_array_equal(back[key], array)
    return keras, back


def test_every_kind_round_trips_exactly_and_depthwise_keeps_each_channels_filters() -> None:
    rng = np.random.default_rng(0)
    conv, _ = _round_trip(LayerPair("c", "c", "conv_bias"), [rng.random((4, 3, 3, 3)), rng.random(4)])
    assert conv[0].shape == (3, 3, 3, 4) and conv[1].shape == (4,)
    weight = rng.random((6, 1, 3, 3))  # 3 channels x multiplier 2: torch output channel c * 2 + k
    depthwise, _ = _round_trip(LayerPair("d", "d", "depthwise_bias", multiplier=2), [weight, rng.random(6)])
    assert depthwise[0].shape == (3, 3, 3, 2)
    for channel in range(3):
        for k in range(2):
            np.testing.assert_array_equal(depthwise[0][:, :, channel, k], weight[channel * 2 + k, 0])
    plain, _ = _round_trip(LayerPair("n", "n", "plain", suffixes=("mean", "var")), [rng.random(3), rng.random(3)])
    assert [a.shape for a in plain] == [(3,), (3,)]
    with pytest.raises(ValueError, match="unknown kind 'pool'"):
        KerasLayer("p", "pool", "stem")


def test_imagenet_is_keras_cache_file_and_other_published_names_are_one_line(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    arch = architecture("keras_resnet101")
    path = resolve_weights_file(arch, "imagenet")
    assert path == tmp_path / "models" / "resnet101_weights_tf_dim_ordering_tf_kernels_notop.h5"
    with pytest.raises(ValueError, match=r"^model.weights = 'IMAGENET1K_V1': keras_resnet101 has 'imagenet'"):
        published_file(arch, "IMAGENET1K_V1")
    assert shared_weights_problems(arch, ModelSpec(name="keras_resnet101", weights="imagenet")) == []


def test_the_networks_own_batchnorm_is_the_default_and_a_spec_value_wins() -> None:
    assert (ModelSpec(name="keras_resnet152").bn_momentum, ModelSpec(name="keras_resnet152").bn_epsilon) == (
        0.01,
        1.001e-5,
    )
    assert ModelSpec(name="keras_resnet152", bn_momentum=0.1).bn_momentum == 0.1
    assert ModelSpec(name="keras_vgg16").bn_epsilon == 1e-5  # no BatchNorm: the suite's default, unused

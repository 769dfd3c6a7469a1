"""The MBConv families' Keras layer declarations, without a framework: counts, groups, names, the plain layer."""

import numpy as np
import pytest

from suite.architectures.catalog import architecture, takes_stochastic_depth
from suite.architectures.convert import layer_table, to_keras, to_neutral
from suite.architectures.keras_layout import check_declared_groups, keras_file_names, keras_layers
from suite.spec.models import ModelSpec

# len(keras.applications.<X>(include_top=False).layers) less the input layer, Keras 3.15; EfficientNet as built for
# ImageNet weights (its rescaling_1 included), weighted layers in brackets
LAYERS = {
    "keras_mobilenet_v2": (153, 104),
    "keras_mobilenet_v3_large": (186, 108),
    "keras_efficientnet_b0": (237, 131),
    "keras_efficientnet_b3": (384, 209),
}


@pytest.mark.parametrize("name", LAYERS)
def test_each_family_declares_keras_layers_in_the_catalogs_groups(name: str) -> None:
    arch = architecture(name)
    layers = keras_layers(arch)
    assert (len(layers), sum(layer.weighted for layer in layers)) == LAYERS[name]
    assert len({layer.name for layer in layers}) == len(layers)
    check_declared_groups(arch)
    assert [pair.keras for pair in layer_table(arch)][-1] == "logits"


def test_seed003_last_10_layers_of_mobilenet_v2() -> None:
    last = keras_layers(architecture("keras_mobilenet_v2"))[-10:]
    assert [layer.name for layer in last][:2] == ["block_16_expand_BN", "block_16_expand_relu"]
    assert {layer.group for layer in last} == {"features.17", "features.18"}


def test_keras_names_activations_as_a_fresh_session_does() -> None:
    names = [layer.name for layer in keras_layers(architecture("keras_mobilenet_v3_large"))]
    assert names[:5] == ["rescaling", "conv", "conv_bn", "activation", "expanded_conv_depthwise"]
    assert names[-1] == "activation_19" and "re_lu_7" in names and "expanded_conv_3_squeeze_excite_mul" in names


def test_efficientnets_normalization_converts_as_is_with_a_scalar_count() -> None:
    arch = architecture("keras_efficientnet_b0")
    names = [layer.name for layer in keras_layers(arch)]
    assert names[:4] == ["rescaling", "normalization", "rescaling_1", "stem_conv_pad"]
    assert keras_file_names(arch)["normalization"] == "normalization"
    table = [pair for pair in layer_table(arch) if pair.keras == "normalization"]
    keras_arrays = {"normalization": [np.full(3, 0.5, np.float32), np.full(3, 0.25, np.float32), np.array(7)]}
    state = to_neutral(keras_arrays, table)
    assert list(state) == ["normalization.mean", "normalization.variance", "normalization.count"]
    assert state["normalization.count"].shape == ()
    back = to_keras(state, table)["normalization"]
    for got, expected in zip(back, keras_arrays["normalization"], strict=True):
        np.testing.assert_array_equal(got, expected)


def test_model_dropout_is_efficientnets_stochastic_depth() -> None:
    assert takes_stochastic_depth("keras_efficientnet_b3") and not takes_stochastic_depth("keras_mobilenet_v2")
    assert ModelSpec(name="keras_efficientnet_b0", dropout=0.0).dropout == 0.0
    with pytest.raises(ValueError, match="stochastic depth"):
        ModelSpec(name="keras_mobilenet_v2", dropout=0.1)
    assert architecture("keras_efficientnet_b0").batchnorm == (0.01, 1e-3)
    assert ModelSpec(name="keras_mobilenet_v3_large").bn_momentum == 0.001

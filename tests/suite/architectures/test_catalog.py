"""The catalog and its converters, without a framework: declarations, tables, numpy round trips, fit checks."""

import numpy as np
import pytest

from suite.architectures.catalog import CATALOG, architecture
from suite.architectures.convert import (
    WeightsMismatchError,
    check_fit,
    fingerprint,
    head_keys,
    layer_table,
    to_keras,
    to_neutral,
)
from suite.spec.models import GRAYSCALE_MODELS, SHARED_ARCHITECTURES

CONVERTED = [arch for arch in CATALOG if arch.layout == "torchvision"]
_SHAPES = {"conv": [(4, 3, 3, 3)], "bn": [(4,)] * 4, "dense": [(5, 4), (5,)]}


def test_shared_names_come_from_the_catalog() -> None:
    assert SHARED_ARCHITECTURES == tuple(arch.name for arch in CATALOG)
    assert set(GRAYSCALE_MODELS) == {"mlp", "simple_cnn"}
    assert architecture("vgg16") is None and all(arch.groups[-1] == "head" for arch in CATALOG)


@pytest.mark.parametrize("arch", CONVERTED, ids=lambda arch: arch.name)
def test_converter_table_names_each_layer_once_in_torchvisions_order(arch) -> None:  # noqa: ANN001
    table = layer_table(arch)
    assert len({pair.torch for pair in table}) == len({pair.keras for pair in table}) == len(table)
    assert (table[0].torch, table[-1].torch, table[-1].head) == ("conv1", "fc", True)
    stages = [pair.torch.split(".")[0] for pair in table[2:-1]]
    assert stages == sorted(stages) and set(stages) == {"layer1", "layer2", "layer3", "layer4"}


def test_numpy_round_trip_is_exact_and_transposes_to_keras_layout() -> None:
    table = layer_table(architecture("resnet18"))
    rng = np.random.default_rng(0)
    state = {key: rng.standard_normal(_SHAPES[pair.kind][i]).astype(np.float32)
             for pair in table[:3] + table[-1:] for i, key in enumerate(pair.torch_keys())}  # fmt: skip
    layers = to_keras(state, table)
    assert layers["conv1_conv"][0].shape == (3, 3, 3, 4) and layers["logits"][0].shape == (4, 5)
    back = to_neutral(layers, table)
    assert back.keys() == state.keys()
    for key, array in state.items():
        np.testing.assert_array_equal(back[key], array)
    assert fingerprint(back) == fingerprint(state) != fingerprint({**state, "fc.bias": state["fc.bias"] + 1})


def test_fit_check_names_the_first_tensor_and_lets_a_head_of_another_size_go() -> None:
    table = layer_table(architecture("resnet18"))
    expected = {"conv1.weight": (64, 3, 7, 7), "fc.weight": (10, 512), "fc.bias": (10,)}
    good = {"conv1.weight": np.zeros((64, 3, 7, 7)), "fc.weight": np.zeros((1000, 512)), "fc.bias": np.zeros(1000)}
    assert list(check_fit(good, expected, head_keys(table), "f.pt")) == ["conv1.weight"]
    with pytest.raises(WeightsMismatchError, match=r"^f.pt: tensor 'conv1.weight' does not fit .*\(shape \(64, 1"):
        check_fit({**good, "conv1.weight": np.zeros((64, 1, 7, 7))}, expected, head_keys(table), "f.pt")
    with pytest.raises(WeightsMismatchError, match="'layer9.weight' does not fit .*not one of its own"):
        check_fit({**good, "layer9.weight": np.zeros(1)}, expected, head_keys(table), "f.pt")

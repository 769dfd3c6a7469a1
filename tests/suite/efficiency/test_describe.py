"""What ``suite describe --freeze`` computes, on a hand-written description of seed 003's simple CNN."""

import pytest

from suite.efficiency.describe import training_costs
from suite.runners.protocol import GroupFacts, LayerCost, ModelDescription, ParamCounts

MACS = {"conv1": 32 * 32 * 27 * 32, "conv2": 16 * 16 * 288 * 64, "dense": 8 * 8 * 64 * 512, "head": 512 * 10}
PARAMS = {"conv1": 896, "conv2": 18_496, "dense": 2_097_664, "head": 5_130}
SIMPLE_CNN = ModelDescription(
    params=ParamCounts(total=2_122_186, trainable=2_122_186, frozen=0),
    groups=[GroupFacts(name, count) for name, count in PARAMS.items()],
    sequential=True,
    layer_costs=[LayerCost(name, name, "dense" if name in ("dense", "head") else "conv", macs, 1, 1, True)
                 for name, macs in MACS.items()],
)  # fmt: skip


def test_forward_flops_in_total_and_per_group() -> None:
    costs = training_costs(SIMPLE_CNN, None)
    assert costs["forward_flops"] == 2 * 7_705_600
    assert costs["group_flops"] == {name: 2 * macs for name, macs in MACS.items()}
    assert "train_flops" not in costs


def test_freezing_the_first_block() -> None:
    costs = training_costs(SIMPLE_CNN, {"freeze_blocks": 1})
    assert costs["frozen"] == ["conv1"]
    input_grads = MACS["dense"] + MACS["head"]
    weight_grads = MACS["conv2"] + MACS["dense"] + MACS["head"]
    assert costs["train_flops"] == 2 * (7_705_600 + input_grads + weight_grads)  # 33,257,472
    assert costs["trainable_params"] == 2_121_290
    assert costs["state_bytes"] == 2_121_290 * 4 * 4  # weights, gradients, Adam's two moments


def test_an_unknown_group_names_the_key() -> None:
    with pytest.raises(ValueError, match="strategy.freeze: unknown layer group"):
        training_costs(SIMPLE_CNN, {"freeze": ["conv9"]})

"""The analytic FLOP rule and the trainable-state bytes, against numbers computed by hand."""

import pytest

from suite.efficiency import forward_flops, plan_train_flops, train_flops, trainable_state_bytes
from suite.efficiency.state import delta_bytes
from suite.runners.protocol import LayerCost

# The seed-002 MLP on 8x8x1 digits, 10 classes: Linear 64->128, 128->64, 64->10.
MLP = [
    LayerCost("hidden1", "hidden1", "dense", 64 * 128, 64, 128, True),
    LayerCost("hidden2", "hidden2", "dense", 128 * 64, 128, 64, True),
    LayerCost("head", "head", "dense", 64 * 10, 64, 10, True),
]
MLP_GROUPS = ["hidden1", "hidden2", "head"]


def test_forward_flops_are_two_per_multiply_accumulate() -> None:
    assert forward_flops(MLP) == 2 * (8192 + 8192 + 640)  # 34,048


def test_full_training_step_is_forward_plus_input_and_weight_gradients() -> None:
    forward = 8192 + 8192 + 640
    input_grads = 8192 + 640  # every layer above the first one passes gradients down
    weight_grads = forward
    assert train_flops(MLP, MLP_GROUPS) == 2 * (forward + input_grads + weight_grads)  # 85,760


def test_frozen_layers_below_the_first_trainable_one_cost_no_backward() -> None:
    forward = 8192 + 8192 + 640
    assert train_flops(MLP, ["hidden2", "head"]) == 2 * (forward + 640 + 8192 + 640)
    assert train_flops(MLP, ["head"]) == 2 * (forward + 640)


def test_frozen_layers_above_the_first_trainable_one_pass_gradients_but_get_none() -> None:
    forward = 8192 + 8192 + 640
    # hidden1 trains, hidden2 is frozen (input gradients only), the head trains.
    assert train_flops(MLP, ["hidden1", "head"]) == 2 * (forward + (8192 + 640) + (8192 + 640))


def test_bitfit_and_lora_make_frozen_layers_pass_gradients() -> None:
    forward = 8192 + 8192 + 640
    bitfit = {"train_only": ["bias"], "train_only_groups": ["hidden1", "hidden2"], "lora": None}
    assert train_flops(MLP, ["head"], bitfit) == 2 * (forward + 8192 + 640 + 640)
    lora = {"train_only": [], "lora": {"rank": 2, "groups": ["hidden2"]}}
    adapter = 2 * (128 + 64)  # rank * (fan_in + fan_out), one position
    expected = forward + adapter + (640) + adapter + 640  # forward, input grads (head), adapter and head weights
    assert train_flops(MLP, ["head"], lora) == 2 * expected


def test_plan_train_flops_average_the_epochs() -> None:
    segments = [{"epochs": 1, "trainable": ["head"]}, {"epochs": 3, "trainable": MLP_GROUPS}]
    plan = {"groups": MLP_GROUPS, "epochs": {"segments": segments}, "peft": None}
    expected = (train_flops(MLP, ["head"]) + 3 * train_flops(MLP, MLP_GROUPS)) / 4
    assert plan_train_flops(MLP, plan) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("optimizer", "copies"),
    [({"name": "adam"}, 4), ({"name": "adamw"}, 4), ({"name": "sgd", "momentum": 0.9}, 3), ({"name": "sgd"}, 2)],
)
def test_trainable_state_counts_weights_gradients_and_optimizer_slots(optimizer: dict, copies: int) -> None:
    assert trainable_state_bytes(1000, optimizer) == 1000 * 4 * copies
    assert delta_bytes(1000) == 4000

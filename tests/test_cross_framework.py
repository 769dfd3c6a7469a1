"""The models that exist in both runners have the same architecture: same parameter counts, same meaning."""

import pytest

from suite.runners.registry import create_runner, discover
from suite.spec.models import ModelSpec

pytestmark = pytest.mark.skipif(
    not all(entry.availability()[0] for entry in discover().values()), reason="needs both backends installed"
)


@pytest.mark.parametrize(
    ("model", "input_shape", "expected_total"),
    [
        ({"name": "mlp"}, (28, 28, 1), 109_386),
        ({"name": "simple_cnn"}, (32, 32, 3), 2_122_186),
        ({"name": "mobilenet_v2", "head": "flatten"}, (32, 32, 3), 2_223_872 + 12_810),
    ],
)
def test_same_model_same_counts_in_torch_and_keras(model: dict, input_shape: tuple, expected_total: int) -> None:
    spec = ModelSpec(**model)
    torch_counts = create_runner("torch").describe(spec, input_shape, 10).params
    keras_counts = create_runner("keras").describe(spec, input_shape, 10).params
    assert torch_counts.total == keras_counts.total == expected_total
    assert torch_counts.groups["head"]["total"] == keras_counts.groups["head"]["total"]
    assert torch_counts.buffers == keras_counts.buffers  # BatchNorm moving statistics, counted apart


@pytest.mark.parametrize(
    ("model", "input_shape"),
    [({"name": "mlp"}, (28, 28, 1)), ({"name": "simple_cnn"}, (32, 32, 3)), ({"name": "mobilenet_v2"}, (64, 64, 3))],
)
def test_same_model_same_forward_flops_in_torch_and_keras(model: dict, input_shape: tuple) -> None:
    from suite.efficiency import forward_flops

    spec = ModelSpec(**model)
    torch_costs = create_runner("torch").describe(spec, input_shape, 10).layer_costs
    keras_costs = create_runner("keras").describe(spec, input_shape, 10).layer_costs
    assert forward_flops(torch_costs) == forward_flops(keras_costs) > 0
    assert [cost.kind for cost in torch_costs] == [cost.kind for cost in keras_costs]

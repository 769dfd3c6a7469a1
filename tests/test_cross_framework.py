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
        ({"name": "keras_vgg16", "head": "flatten"}, (32, 32, 3), 14_714_688 + 5_130),
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
    [
        ({"name": "mlp"}, (28, 28, 1)),
        ({"name": "simple_cnn"}, (32, 32, 3)),
        ({"name": "keras_resnet50"}, (64, 64, 3)),
        ({"name": "resnet18"}, (64, 64, 3)),
    ],
)
def test_same_model_same_forward_and_training_flops_in_torch_and_keras(model: dict, input_shape: tuple) -> None:
    from suite.efficiency import forward_flops
    from suite.efficiency.flops import train_flops

    spec = ModelSpec(**model)
    torch_costs = create_runner("torch").describe(spec, input_shape, 10).layer_costs
    keras_costs = create_runner("keras").describe(spec, input_shape, 10).layer_costs
    assert forward_flops(torch_costs) == forward_flops(keras_costs) > 0

    def layers(costs: list) -> list:
        return sorted((cost.group, cost.kind, cost.macs) for cost in costs)

    assert layers(torch_costs) == layers(keras_costs)
    groups = list(dict.fromkeys(cost.group for cost in torch_costs))
    for first in range(len(groups)):  # every freeze level: the groups from ``first`` on train
        assert train_flops(torch_costs, groups[first:]) == train_flops(keras_costs, groups[first:])


LARGE_KERAS_LAYOUT = {"keras_resnet101", "keras_resnet152", "keras_vgg19"}  # their families' small members: default


def _catalog_cases() -> list:
    from suite.architectures.catalog import CATALOG

    shapes = {"mlp": (28, 28, 1), "simple_cnn": (32, 32, 3)}
    cases = []
    for arch in CATALOG:
        marks = [pytest.mark.slow] if arch.name in LARGE_KERAS_LAYOUT else []
        cases.append(pytest.param({"name": arch.name}, shapes.get(arch.name, (64, 64, 3)), id=arch.name, marks=marks))
    return cases


@pytest.mark.parametrize(("model", "input_shape"), _catalog_cases())
def test_every_catalog_entry_trains_the_same_parameters_at_every_freeze_level(model: dict, input_shape: tuple) -> None:
    """One table: for each freeze_blocks level, the trainable count is the same in both backends."""
    from suite.architectures.catalog import architecture
    from suite.architectures.groups import body_groups, initially_frozen
    from suite.spec.models import StrategySpec

    spec = ModelSpec(**model)
    counts = {name: create_runner(name).describe(spec, input_shape, 10).params for name in ("torch", "keras")}
    names = list(counts["torch"].groups)
    assert names == list(counts["keras"].groups) == list(architecture(spec.name).groups)
    for level in range(len(body_groups(names)) + 1):
        frozen = initially_frozen(StrategySpec(freeze_blocks=level), names)
        trainable = {
            backend: numbers.total - sum(numbers.groups[name]["total"] for name in frozen)
            for backend, numbers in counts.items()
        }
        assert trainable["torch"] == trainable["keras"], f"freeze_blocks = {level}"
    assert counts["torch"].buffers == counts["keras"].buffers


@pytest.mark.parametrize(
    ("name", "expected_total"),
    [("resnet18", 11_689_512 - 513 * 990), ("resnet34", 21_797_672 - 513 * 990), ("resnet50", 25_557_032 - 2049 * 990)],
)
def test_resnets_have_torchvisions_published_parameter_counts(name: str, expected_total: int) -> None:
    """torchvision's counts at 1000 classes, less the 990 classifier rows a 10-class head does not have."""
    for backend in ("torch", "keras"):
        assert create_runner(backend).describe(ModelSpec(name=name), (64, 64, 3), 10).params.total == expected_total

"""Backend-neutral group selection used by both runners."""

import pytest

from suite.architectures.groups import initially_frozen, unfreeze_targets
from suite.spec.models import StrategySpec

NAMES = ["stem", "layer1", "layer2", "layer3", "layer4", "head"]


@pytest.mark.parametrize(
    ("strategy", "frozen"),
    [
        ({}, []),
        ({"freeze": "all_but_head"}, NAMES[:-1]),
        ({"freeze": ["layer2", "stem"]}, ["stem", "layer2"]),
        ({"freeze_blocks": 0}, []),
        ({"freeze_blocks": 3}, ["stem", "layer1", "layer2"]),
        ({"freeze_blocks": 5}, NAMES[:-1]),
    ],
)
def test_initially_frozen(strategy: dict, frozen: list[str]) -> None:
    assert initially_frozen(StrategySpec(**strategy), NAMES) == frozen


def test_unknown_group_and_too_many_blocks_name_the_valid_groups() -> None:
    with pytest.raises(ValueError, match=r"strategy.freeze: unknown layer group\(s\) 'layer9'; valid: stem, layer1"):
        initially_frozen(StrategySpec(freeze=["layer9"]), NAMES)
    with pytest.raises(ValueError, match="only 5 groups before the head"):
        initially_frozen(StrategySpec(freeze_blocks=6), NAMES)


def test_unfreeze_targets_in_network_order() -> None:
    assert unfreeze_targets("all", NAMES, "x") == NAMES
    assert unfreeze_targets(["layer4", "layer3"], NAMES, "x") == ["layer3", "layer4"]
    with pytest.raises(ValueError, match="x: unknown"):
        unfreeze_targets(["nope"], NAMES, "x")

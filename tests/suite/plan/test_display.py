from tests_plan_helpers import make_spec, model_description

from suite.plan import build_plan
from suite.plan.display import plan_lines


def test_identical_epochs_are_collapsed_and_changes_shown() -> None:
    plan = build_plan(
        make_spec(strategy={"freeze": "all_but_head", "unfreeze_schedule": {3: ["last:1"]}}, training={"epochs": 4}),
        model_description(),
    ).to_dict()
    lines = plan_lines(plan)
    assert "  epochs 1-2 (phase 1): trains head (10 params); lr 0.001" in lines
    assert "  epochs 3-4 (phase 1): trains layer2, head (310 params); lr 0.001; unfreezes layer2" in lines
    assert any(line.startswith("  feature cache: on (caching the output of stem, layer1") for line in lines)

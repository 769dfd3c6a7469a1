import json

import pytest
from pydantic import ValidationError
from tests_plan_helpers import make_spec, model_description

from suite.plan import build_plan
from suite.spec.models import StrategySpec
from suite.strategies.peft import lora_param_count


def test_train_only_plan_is_neutral_data_and_stops_the_feature_cache() -> None:
    plan = build_plan(
        make_spec(strategy={"freeze": "all_but_head", "train_only": ["norm", "bias"]}), model_description()
    )
    assert plan.peft is not None
    assert plan.peft.train_only == ["bias", "norm"]
    assert plan.peft.groups == ["stem", "layer1", "layer2"]
    assert plan.peft.lora is None
    assert not plan.feature_cache.active
    assert "PEFT" in plan.feature_cache.reason and "stem" in plan.feature_cache.reason
    assert plan.epochs[0].trainable == ["head"] and plan.epochs[0].trainable_params is None
    assert json.loads(json.dumps(plan.to_dict()))["peft"]["train_only_groups"] == ["stem", "layer1", "layer2"]


def test_lora_convention_and_group_targets_keep_the_untouched_prefix_cached() -> None:
    strategy = {"freeze": "all_but_head", "lora": {"rank": 4, "alpha": 8, "targets": ["last:1"]}}
    plan = build_plan(make_spec(strategy=strategy), model_description())
    lora = plan.peft.lora
    assert lora.scaling == 2.0 and lora.groups == ["layer2"] and (lora.init.a, lora.init.b) == ("he_uniform", "zeros")
    assert lora.depthwise.startswith("skipped") and lora.merge_for_test
    assert plan.peft.groups == ["layer2"]
    assert plan.feature_cache.groups == ["stem", "layer1"]  # layer2 has dropout in the helper model anyway


def test_lora_kinds_adapt_every_frozen_group() -> None:
    plan = build_plan(make_spec(strategy={"freeze_blocks": 2, "lora": {}}), model_description())
    assert plan.peft.lora.groups == ["stem", "layer1"] and plan.peft.lora.kinds == ["conv", "linear"]
    assert plan.peft.lora.scaling == 2.0  # defaults: rank 8, alpha 16


@pytest.mark.parametrize(
    ("strategy", "message"),
    [
        ({"train_only": ["bias"]}, "set freeze or freeze_blocks"),
        ({"freeze": "all_but_head", "train_only": ["bias", "bias"]}, "duplicate"),
        ({"freeze": "all_but_head", "train_only": ["weights"]}, "bias"),
        ({"freeze": "all_but_head", "lora": {"targets": ["conv", "layer1"]}}, "not both"),
        ({"freeze": "all_but_head", "lora": {"rank": 0}}, "greater than or equal to 1"),
        ({"freeze": "all_but_head", "lora": {}, "finetune": {"epochs": 1, "lr": 1e-4, "unfreeze": "all"}}, "finetune"),
    ],
)
def test_peft_strategy_validation(strategy: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        StrategySpec.model_validate(strategy)


def test_lora_on_a_training_group_is_refused() -> None:
    spec = make_spec(strategy={"freeze": ["stem"], "lora": {"targets": ["layer1"]}})
    with pytest.raises(ValueError, match="frozen groups only"):
        build_plan(spec, model_description())


def test_lora_count_formula() -> None:
    assert lora_param_count(8, 32 * 3 * 3, 64) == 8 * (288 + 64)


def test_validate_plan_prints_the_peft_entry() -> None:
    from suite.plan.display import plan_lines

    strategy = {"freeze_blocks": 2, "train_only": ["bias"], "lora": {"rank": 4, "alpha": 8}}
    lines = plan_lines(build_plan(make_spec(strategy=strategy), model_description()).to_dict())
    assert "  train only bias in: stem, layer1" in lines
    assert any(line.startswith("  LoRA r=4, alpha=8 (scaling 2) on conv + linear of stem, layer1") for line in lines)

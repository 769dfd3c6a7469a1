import json
import math
import re

import pytest
from tests_plan_helpers import make_spec, model_description

from suite.plan import EpochSchedule, build_plan


def test_gradual_unfreezing_with_last_n_and_discriminative_warmup_cosine() -> None:
    spec = make_spec(
        strategy={"freeze": "all_but_head", "unfreeze_schedule": {2: ["last:1"], 3: ["last:2"]},
                  "discriminative_lr": {"lr_mult": 0.1}},
        optimizer={"lr": 0.1},
        training={"scheduler": {"name": "cosine", "warmup_epochs": 1}},
    )  # fmt: skip
    plan = build_plan(spec, model_description())
    assert [e.trainable for e in plan.epochs] == [
        ["head"],
        ["layer2", "head"],
        ["layer1", "layer2", "head"],
        ["layer1", "layer2", "head"],
    ]
    assert [e.unfreezes for e in plan.epochs] == [[], ["layer2"], ["layer1"], []]
    assert [e.trainable_params for e in plan.epochs] == [10, 310, 510, 510]
    assert plan.epochs[0].rates == pytest.approx({"stem": 1e-5, "layer1": 1e-4, "layer2": 1e-3, "head": 1e-2})
    assert plan.epochs[1].rates["head"] == pytest.approx(0.1)  # warm-up over: cosine starts at the base
    assert plan.epochs[3].rates["head"] == pytest.approx(0.1 * (1 + math.cos(math.pi * 2 / 3)) / 2)
    stored = json.loads(json.dumps(plan.to_dict()))["epochs"]
    assert [(segment["first_epoch"], segment["epochs"]) for segment in stored["segments"]] == [(1, 1), (2, 1), (3, 2)]
    assert list(EpochSchedule.from_stored(stored)) == list(plan.epochs)


def test_finetune_phase_restarts_the_schedule_and_unfreezes() -> None:
    spec = make_spec(
        strategy={"freeze": "all_but_head", "finetune": {"epochs": 2, "lr": 1e-4, "unfreeze": "all"}},
        optimizer={"lr": 1e-2},
        training={"epochs": 2, "scheduler": {"name": "step", "step_size": 1, "gamma": 0.5}},
    )
    plan = build_plan(spec, model_description())
    assert [(e.epoch, e.phase, e.epoch_in_phase) for e in plan.epochs] == [(0, 1, 0), (1, 1, 1), (2, 2, 0), (3, 2, 1)]
    assert [e.rates["head"] for e in plan.epochs] == pytest.approx([1e-2, 5e-3, 1e-4, 5e-5])
    assert plan.epochs[2].trainable == ["stem", "layer1", "layer2", "head"]
    assert [p.first_epoch for p in plan.phases] == [0, 2]


def test_feature_cache_takes_the_always_frozen_prefix_up_to_dropout() -> None:
    plan = build_plan(make_spec(strategy={"freeze": "all_but_head"}), model_description())
    assert plan.feature_cache.active and plan.feature_cache.groups == ["stem", "layer1"]


@pytest.mark.parametrize(
    ("strategy", "sequential", "reason"),
    [
        ({"freeze": "all_but_head", "unfreeze_schedule": {3: ["stem"]}}, True, "no frozen leading group"),
        ({"freeze": "all_but_head", "bn_mode": "train"}, True, "bn_mode = 'train'"),
        ({"freeze": "all_but_head"}, False, "not a plain sequence"),
        ({"freeze": "none"}, True, "no frozen leading group"),
    ],
)
def test_feature_cache_off_with_the_reason(strategy: dict, sequential: bool, reason: str) -> None:
    plan = build_plan(make_spec(strategy=strategy), model_description(sequential))
    assert not plan.feature_cache.active and reason in plan.feature_cache.reason


def test_feature_cache_true_but_impossible_names_the_key() -> None:
    with pytest.raises(ValueError, match="training.feature_cache = true but nothing can be cached"):
        build_plan(make_spec(training={"feature_cache": True}), model_description())
    off = build_plan(
        make_spec(strategy={"freeze": "all_but_head"}, training={"feature_cache": False}), model_description()
    )
    assert not off.feature_cache.active and off.feature_cache.reason == "training.feature_cache = false"


def test_hyperparameters_init_and_order_are_recorded() -> None:
    spec = make_spec(optimizer={"epsilon": 1e-7}, model={"bn_momentum": 0.01, "bn_epsilon": 1e-3, "init": "shared"})
    plan = build_plan(spec, model_description())
    assert (plan.optimizer.epsilon, plan.optimizer.betas) == (1e-7, (0.9, 0.999))
    assert (plan.batchnorm.momentum, plan.batchnorm.epsilon) == (0.01, 1e-3)
    assert plan.init == "shared" and plan.batch_order.source == "suite" and plan.batch_order.seed == 0


@pytest.mark.parametrize(
    ("strategy", "message"),
    [
        ({"freeze": ["nope"]}, "strategy.freeze: unknown layer group(s) 'nope'; valid: stem, layer1, layer2, head"),
        ({"freeze_blocks": 9}, "freeze_blocks = 9 but the model has only 3 groups before the head"),
        ({"unfreeze_schedule": {2: ["last:4"]}}, "strategy.unfreeze_schedule[2]: 'last:4' needs 1 <= N <= 3"),
    ],
)
def test_group_errors_name_the_key(strategy: dict, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        build_plan(make_spec(strategy=strategy), model_description())


def test_short_runs_get_notes_not_errors() -> None:
    plan = build_plan(
        make_spec(strategy={"unfreeze_schedule": {9: ["stem"]}}, training={"epochs": 2}), model_description()
    )
    assert plan.notes[0] == "unfreeze_schedule epoch(s) 9 fall after the last epoch (2)"
    assert "BatchNorm running variance" in plan.notes[1]  # the model has BatchNorm groups


def test_unfreeze_schedule_epochs_are_numbered_from_one() -> None:
    plan = build_plan(
        make_spec(
            strategy={"freeze": "all_but_head", "unfreeze_schedule": {1: ["layer2"], 3: ["layer1"]}},
            training={"epochs": 3},
        ),
        model_description(),
    )
    assert [e.unfreezes for e in plan.epochs] == [["layer2"], [], ["layer1"]]  # key 1 = the first epoch
    stored = plan.to_dict()
    segments = stored["epochs"]["segments"]
    assert [(s["first_epoch"], s["unfreezes"]) for s in segments] == [(1, ["layer2"]), (3, ["layer1"])]
    assert stored["phases"][0]["first_epoch"] == 1
    with pytest.raises(ValueError, match="unfreeze_schedule epochs are numbered from 1"):
        make_spec(strategy={"freeze": "all_but_head", "unfreeze_schedule": {0: ["layer2"]}})


def test_stochastic_depth_is_a_note_unless_turned_off() -> None:
    model = {"name": "keras_efficientnet_b0"}
    dataset = {"source": "digits", "channels": 3}
    default = build_plan(make_spec(model=model, dataset=dataset), model_description()).notes
    assert [note for note in default if "stochastic depth" in note and "model.dropout = 0.2" in note]
    off = build_plan(make_spec(model={**model, "dropout": 0.0}, dataset=dataset), model_description()).notes
    assert not [note for note in off if "stochastic depth" in note]


def test_the_plan_does_not_grow_with_epochs() -> None:
    """Ten thousand epochs of cosine with a mid-run unfreeze: three segments in plan.json, epochs on demand."""
    strategy = {"freeze": "all_but_head", "unfreeze_schedule": {5000: ["last:1"]}}
    short, long = (
        build_plan(
            make_spec(strategy=strategy, training={"epochs": epochs, "scheduler": {"name": "cosine"}}),
            model_description(),
        )
        for epochs in (5000, 10000)
    )
    assert len(long.epochs) == 10000 and len(long.epochs.segments) == 2
    assert len(json.dumps(long.to_dict())) - len(json.dumps(short.to_dict())) < 20
    last = long.epochs[-1]
    assert (last.epoch, last.epoch_in_phase, last.trainable) == (9999, 9999, ["layer2", "head"])
    assert last.rates["head"] == pytest.approx(1e-3 * (1 + math.cos(math.pi * 9999 / 10000)) / 2)
    assert long.epochs[4999].unfreezes == ["layer2"] and long.epochs[5000].unfreezes == []

import torch

from suite.spec.models import ModelSpec
from torch_impl.checks import shrunk_schedule_notes
from torch_impl.freezing import set_requires_grad, set_train_mode
from torch_impl.models import build_model
from torch_impl.params import count_params
from torch_impl.runner import TorchRunner

NAMES = ["stem", "layer1", "layer2", "layer3", "layer4", "head"]


# Which groups a strategy selects is backend-neutral: tested in tests/suite/test_groups.py.


def test_all_but_head_leaves_seed_002_trainable_count():
    built = build_model(ModelSpec(name="resnet18"), (32, 32, 3), 10)
    set_requires_grad(built, set(NAMES[:-1]))
    counts = count_params(built)
    assert counts.trainable == 5_130 and counts.frozen == counts.total - 5_130
    assert counts.groups["layer3"] == {"total": 2_099_712, "trainable": 0}


def test_frozen_batchnorm_in_eval_mode_only_when_asked():
    built = build_model(ModelSpec(name="resnet18"), (32, 32, 3), 10)
    set_train_mode(built, {"stem", "layer1"}, "frozen")
    assert not built.groups["stem"][0][1].training
    assert not built.groups["layer1"][0][0].bn1.training
    assert built.groups["layer2"][0][0].bn1.training
    set_train_mode(built, {"stem", "layer1"}, "train")
    assert all(m.training for m in built.module.modules())


def test_check_reports_group_problems(spec_for):
    runner = TorchRunner()
    resnet = {"name": "resnet18"}
    assert runner.check(spec_for(resnet, strategy={"freeze_blocks": 5})) == []
    [problem] = runner.check(spec_for(resnet, strategy={"freeze": ["stem", "block9"]}))
    assert "'block9'" in problem and "layer4" in problem
    assert "only 5 groups" in runner.check(spec_for(resnet, strategy={"freeze_blocks": 7}))[0]
    schedule = runner.check(spec_for(resnet, strategy={"freeze": "all_but_head", "unfreeze_schedule": {1: ["nope"]}}))
    assert "unfreeze_schedule[1]" in schedule[0]
    keras_only = {"finetune": {"epochs": 1, "lr": 1e-4, "unfreeze_last_layers": 10}}
    assert "Keras-only" in runner.check(spec_for(resnet, strategy=keras_only))[0]
    assert "unknown model" in runner.check(spec_for({"name": "lenet9000"}))[0]


def test_check_reports_training_problems(spec_for):
    runner = TorchRunner()
    plateau_warmup = {"epochs": 5, "scheduler": {"name": "plateau", "warmup_epochs": 2}}
    assert any("plateau" in p for p in runner.check(spec_for({"name": "mlp"}, training=plateau_warmup)))
    if not torch.cuda.is_available():
        assert any("fp16" in p for p in runner.check(spec_for({"name": "mlp"}, training={"precision": "fp16"})))
    late = spec_for({"name": "resnet18"}, strategy={"freeze": "all_but_head", "unfreeze_schedule": {5: ["layer4"]}})
    assert runner.check(late) == []  # a shrunk run (--set training.epochs=1) is allowed; the run notes it
    assert shrunk_schedule_notes(late) == ["unfreeze_schedule epoch(s) 5 fall after the last epoch (1)"]
    assert any("channels" in p for p in runner.check(spec_for({"name": "resnet18"}, dataset={"channels": 1})))


def test_check_rejects_keys_the_torch_runner_would_not_use(spec_for):
    runner = TorchRunner()
    assert "momentum" in runner.check(spec_for({"name": "mlp"}, optimizer={"name": "adam", "momentum": 0.9}))[0]
    assert "model.dropout" in runner.check(spec_for({"name": "resnet18", "dropout": 0.3}))[0]
    unused = spec_for({"name": "mlp"}, training={"scheduler": {"name": "cosine", "patience": 2}})
    assert runner.check(unused) == ["scheduler 'cosine' does not use patience"]
    used = spec_for({"name": "mlp"}, training={"scheduler": {"name": "step", "step_size": 2, "warmup_epochs": 1}})
    assert runner.check(used) == []


def test_check_accepts_a_fully_resolved_spec(spec_for):
    spec = spec_for({"name": "mlp"})
    resolved = type(spec).model_validate(spec.model_dump())  # every field explicitly set, as the executor writes it
    assert TorchRunner().check(resolved) == []

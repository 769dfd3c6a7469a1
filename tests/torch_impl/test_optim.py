import torch

from suite.plan.sections import optimizer_plan
from suite.runners.protocol import TrainableSet
from suite.spec.models import ModelSpec, OptimizerSpec
from torch_impl.models import build_model
from torch_impl.optim import build_optimizer, learning_rates, optimizer_state_steps

MLP = ("hidden1", "hidden2", "head")


def test_one_param_group_per_layer_group_at_its_rate():
    built = build_model(ModelSpec(name="resnet18"), (32, 32, 3), 3)
    rates = {"stem": 1e-8, "layer1": 1e-7, "layer2": 1e-6, "layer3": 1e-5, "layer4": 1e-4, "head": 1e-3}
    adamw = OptimizerSpec(name="adamw", weight_decay=0.01, epsilon=1e-7)
    optimizer = build_optimizer(optimizer_plan(adamw), built, rates)
    assert learning_rates(optimizer) == rates
    assert all(group["eps"] == 1e-7 and group["weight_decay"] == 0.01 for group in optimizer.param_groups)
    sgd = build_optimizer(optimizer_plan(OptimizerSpec(name="sgd", momentum=0.9, nesterov=True)), built, rates)
    assert isinstance(sgd, torch.optim.SGD) and sgd.param_groups[0]["nesterov"]


def test_session_sets_each_group_rate(digits, spec_for, session_for):
    with session_for(spec_for({"name": "mlp"}), digits) as session:
        session.begin_phase(TrainableSet(MLP), dict.fromkeys(MLP, 1e-3))
        session.set_learning_rates({"hidden1": 2.5e-4, "hidden2": 5e-4, "head": 1e-3})
        assert learning_rates(session.optimizer) == {"hidden1": 2.5e-4, "hidden2": 5e-4, "head": 1e-3}


def test_gradual_unfreezing_keeps_state_of_groups_already_training(digits, spec_for, session_for):
    images = digits.preprocessing.apply(digits.train.images[:16])
    labels = digits.train.labels[:16]
    spec = spec_for({"name": "mlp"}, optimizer={"name": "adamw", "weight_decay": 0.1})
    with session_for(spec, digits) as session:
        session.begin_phase(TrainableSet(("head",)), dict.fromkeys(MLP, 1e-2))
        hidden1 = session.built.groups["hidden1"][0][1].weight
        frozen = hidden1.detach().clone()
        session.train_step(images, labels)
        assert torch.equal(hidden1, frozen)  # frozen: no gradient, no weight decay
        assert optimizer_state_steps(session.optimizer) == {"hidden1": 0, "hidden2": 0, "head": 1}
        head_state = session.optimizer.state[session.built.groups["head"][0].weight]["exp_avg"].clone()
        session.set_trainable(TrainableSet(("hidden1", "head")))
        session.train_step(images, labels)
        assert not torch.equal(hidden1, frozen)
        assert optimizer_state_steps(session.optimizer) == {"hidden1": 1, "hidden2": 0, "head": 2}
        assert not torch.equal(session.optimizer.state[session.built.groups["head"][0].weight]["exp_avg"], head_state)
        session.begin_phase(TrainableSet(MLP), dict.fromkeys(MLP, 1e-4))  # a new phase: a fresh optimizer
        assert optimizer_state_steps(session.optimizer) == dict.fromkeys(MLP, 0)

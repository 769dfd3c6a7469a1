"""GroupOptimizer against torch.optim's update rules, written out in numpy."""

import keras
import numpy as np
import pytest

from keras_impl.optim import GroupOptimizer
from suite.plan.sections import ADAM_BETAS, optimizer_plan
from suite.spec.models import OptimizerSpec

P0 = np.array([1.0, -2.0, 0.5], dtype=np.float32)
GRADS = [np.array(g, dtype=np.float32) for g in ([0.5, -0.3, 2.0], [0.1, 0.4, -1.0], [-0.2, 0.2, 0.3])]


def torch_adam(p, grads, lr, weight_decay=0.0, eps=1e-8, decoupled=False):
    """torch.optim.Adam / AdamW (foreach=False), step by step."""
    p, m, v = p.astype(np.float64), np.zeros_like(p, np.float64), np.zeros_like(p, np.float64)
    (b1, b2) = ADAM_BETAS
    for t, g in enumerate(grads, start=1):
        if decoupled:
            p = p * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        denom = np.sqrt(v) / np.sqrt(1 - b2**t) + eps
        p = p - lr / (1 - b1**t) * m / denom
    return p


def torch_sgd(p, grads, lr, weight_decay=0.0, momentum=0.0, nesterov=False):
    """torch.optim.SGD (dampening 0), step by step."""
    p, buffer = p.astype(np.float64), None
    for g in grads:
        g = g + weight_decay * p
        if momentum:
            buffer = g.copy() if buffer is None else momentum * buffer + g
            g = g + momentum * buffer if nesterov else buffer
        p = p - lr * g
    return p


def _optimizer(spec, variables, groups=None, clip=None):
    groups = groups or {variable.path: "g" for variable in variables}
    optimizer = GroupOptimizer(optimizer_plan(spec, clip), sorted(set(groups.values())), groups)
    optimizer.build(variables)
    return optimizer


def _step(optimizer, grads, variables):
    optimizer.apply([keras.ops.convert_to_tensor(g) for g in grads], variables)


def _value(variable):
    return keras.ops.convert_to_numpy(variable)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (OptimizerSpec(name="adam", lr=0.1), torch_adam(P0, GRADS, 0.1)),
        (OptimizerSpec(name="adam", lr=0.1, weight_decay=0.1), torch_adam(P0, GRADS, 0.1, 0.1)),
        (OptimizerSpec(name="adam", lr=0.1, epsilon=0.5), torch_adam(P0, GRADS, 0.1, eps=0.5)),
        (OptimizerSpec(name="adamw", lr=0.1, weight_decay=0.5), torch_adam(P0, GRADS, 0.1, 0.5, decoupled=True)),
        (OptimizerSpec(name="sgd", lr=0.1, weight_decay=0.1), torch_sgd(P0, GRADS, 0.1, 0.1)),
        (OptimizerSpec(name="sgd", lr=0.1, momentum=0.9), torch_sgd(P0, GRADS, 0.1, momentum=0.9)),
        (
            OptimizerSpec(name="sgd", lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
            torch_sgd(P0, GRADS, 0.1, 0.01, 0.9, nesterov=True),
        ),
    ],
    ids=["adam", "adam_l2", "adam_eps", "adamw", "sgd_l2", "sgd_momentum", "sgd_nesterov_l2"],
)
def test_updates_match_torch(spec, expected):
    variable = keras.Variable(P0, name="w")
    optimizer = _optimizer(spec, [variable])
    optimizer.set_rates({"g": spec.lr})
    for grad in GRADS:
        _step(optimizer, [grad], [variable])
    np.testing.assert_allclose(_value(variable), expected, rtol=1e-5, atol=1e-6)


def test_grad_clip_is_torch_clip_grad_norm_before_l2():
    a, b = keras.Variable(np.zeros(2, np.float32), name="a"), keras.Variable(np.ones(1, np.float32), name="b")
    optimizer = _optimizer(OptimizerSpec(name="sgd", lr=1.0, weight_decay=0.5), [a, b], clip=1.0)
    optimizer.set_rates({"g": 1.0})
    _step(optimizer, [np.array([3.0, 4.0], np.float32), np.array([0.0], np.float32)], [a, b])
    scale = 1.0 / (5.0 + 1e-6)  # max_norm / (norm + 1e-6): torch.nn.utils.clip_grad_norm_
    np.testing.assert_allclose(_value(a), [-3.0 * scale, -4.0 * scale], rtol=1e-6)
    np.testing.assert_allclose(_value(b), [1.0 - 0.5], rtol=1e-6)  # the L2 term is added after clipping


def test_each_group_has_its_own_rate_and_a_zero_rate_does_not_move():
    a, b = keras.Variable(P0, name="a"), keras.Variable(P0, name="b")
    spec = OptimizerSpec(name="adamw", lr=0.1, weight_decay=0.1)
    optimizer = _optimizer(spec, [a, b], {"a": "body", "b": "head"})
    optimizer.set_rates({"body": 0.0, "head": 0.1})
    for grad in GRADS:
        _step(optimizer, [grad, grad], [a, b])
    np.testing.assert_array_equal(_value(a), P0)
    np.testing.assert_allclose(_value(b), torch_adam(P0, GRADS, 0.1, 0.1, decoupled=True), rtol=1e-5)
    optimizer.set_rates({"body": 0.05})
    assert optimizer.current_rates() == pytest.approx({"body": 0.05, "head": 0.1})


def test_step_count_is_per_variable():
    a, b = keras.Variable(P0, name="a"), keras.Variable(P0, name="b")
    optimizer = _optimizer(OptimizerSpec(name="adam", lr=0.1), [a, b])
    optimizer.set_rates({"g": 0.1})
    _step(optimizer, GRADS[:1], [a])
    _step(optimizer, GRADS[1:2], [a])
    _step(optimizer, [GRADS[2], GRADS[0]], [a, b])  # b's first step: bias correction at t = 1
    np.testing.assert_allclose(_value(a), torch_adam(P0, GRADS, 0.1), rtol=1e-5)
    np.testing.assert_allclose(_value(b), torch_adam(P0, GRADS[:1], 0.1), rtol=1e-5)


def test_rebuilt_optimizer_keeps_old_state_and_starts_new_variables_fresh():
    a, b = keras.Variable(P0, name="a"), keras.Variable(P0, name="b")
    spec = OptimizerSpec(name="adam", lr=0.1)
    first = _optimizer(spec, [a])
    first.set_rates({"g": 0.1})
    for grad in GRADS[:2]:
        _step(first, [grad], [a])
    second = _optimizer(spec, [a, b])
    assert second.load_state(first.state_by_path(), first.current_rates()) == 1
    _step(second, [GRADS[2], GRADS[0]], [a, b])
    np.testing.assert_allclose(_value(a), torch_adam(P0, GRADS, 0.1), rtol=1e-5)
    np.testing.assert_allclose(_value(b), torch_adam(P0, GRADS[:1], 0.1), rtol=1e-5)

"""GroupOptimizer against torch.optim's update rules, written out in numpy."""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

from keras_impl.optim import GroupOptimizer
from suite.plan.sections import ADAM_BETAS, optimizer_plan
from suite.spec.models import OptimizerSpec

REPO = Path(__file__).resolve().parents[2]
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


IN_PLACE_SCRIPT = """
import json
import keras
import numpy as np
from keras_impl.optim import GroupOptimizer
from suite.plan.sections import optimizer_plan
from suite.spec.models import OptimizerSpec

SPECS = [
    {"name": "adam"}, {"name": "adam", "weight_decay": 0.1, "epsilon": 1e-3}, {"name": "adamw", "weight_decay": 0.5},
    {"name": "sgd", "weight_decay": 0.1}, {"name": "sgd", "momentum": 0.9},
    {"name": "sgd", "momentum": 0.9, "nesterov": True, "weight_decay": 0.01},
]


class KerasOpsOnly(GroupOptimizer):
    def _backend_update_step(self, grads, trainable_variables, learning_rate):
        for gradient, variable in zip(grads, trainable_variables):
            self.update_step(gradient, variable, learning_rate)


def train(cls, spec, dtype, clip):
    rng = np.random.default_rng(0)
    variables = [keras.Variable(rng.normal(size=shape).astype(dtype), name=f"w{i}", dtype=dtype)
                 for i, shape in enumerate([(3, 3, 4, 8), (8,), (40, 10)])]
    groups = {variables[0].path: "a", variables[1].path: "a", variables[2].path: "b"}
    optimizer = cls(optimizer_plan(OptimizerSpec(lr=0.01, **spec), clip), ["a", "b"], groups)
    optimizer.build(variables)
    optimizer.set_rates({"a": 0.01, "b": 0.003})
    for step in range(5):
        if step == 3:
            optimizer.set_rates({"a": 0.002, "b": 0.03})
        grads = [keras.ops.convert_to_tensor(rng.normal(size=v.shape).astype(dtype)) for v in variables]
        optimizer.apply(grads[:2] if step == 0 else grads, variables[:2] if step == 0 else variables)
    return [keras.ops.convert_to_numpy(v) for v in variables + optimizer.variables]


result = {}
for index, spec in enumerate(SPECS):
    for dtype in ("float32", "float64"):
        keras.config.set_floatx(dtype)
        clip = 1.0 if index == 1 else None
        fast, slow = train(GroupOptimizer, spec, dtype, clip), train(KerasOpsOnly, spec, dtype, clip)
        moved = not np.array_equal(fast[0], np.random.default_rng(0).normal(size=(3, 3, 4, 8)).astype(dtype))
        result[f"{spec['name']}{index}-{dtype}"] = moved and all(np.array_equal(a, b) for a, b in zip(fast, slow))
print(json.dumps(result))
"""


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="torch missing")
def test_the_torch_engines_in_place_update_is_the_keras_ops_update_bit_for_bit() -> None:
    env = {**os.environ, "KERAS_BACKEND": "torch"}
    done = subprocess.run(
        [sys.executable, "-c", IN_PLACE_SCRIPT], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert len(result) == 12 and all(result.values()), result

import math

import pytest

from suite.plan.schedule import scheduled_lr
from suite.spec.models import SchedulerSpec
from suite.strategies.rates import layer_multipliers


def test_warmup_then_cosine_matches_the_closed_form_by_hand() -> None:
    spec = SchedulerSpec(name="cosine", warmup_epochs=2, warmup_start_factor=0.1, eta_min=1e-4)
    rates = [scheduled_lr(spec, 0.1, epoch, 6) for epoch in range(6)]
    assert rates[0] == pytest.approx(0.01)
    assert rates[1] == pytest.approx(0.1 * (0.1 + 0.9 * 0.5))
    for t in range(4):  # after warm-up: T = 6 - 2
        assert rates[2 + t] == pytest.approx(1e-4 + (0.1 - 1e-4) * (1 + math.cos(math.pi * t / 4)) / 2)


def test_cosine_floor_raises_a_group_below_eta_min() -> None:
    # seed 004's finding: eta_min is an absolute floor, so a group starting below it rises
    spec = SchedulerSpec(name="cosine", eta_min=1e-6)
    assert scheduled_lr(spec, 1e-8, 0, 20) == pytest.approx(1e-8)
    assert scheduled_lr(spec, 1e-8, 19, 20) == pytest.approx(
        1e-6 + (1e-8 - 1e-6) * (1 + math.cos(math.pi * 19 / 20)) / 2
    )
    assert scheduled_lr(spec, 1e-8, 19, 20) > 9.8e-7


def test_step_and_none() -> None:
    step = SchedulerSpec(name="step", step_size=2, gamma=0.5)
    assert [scheduled_lr(step, 1.0, e, 6) for e in range(6)] == [1.0, 1.0, 0.5, 0.5, 0.25, 0.25]
    assert scheduled_lr(SchedulerSpec(), 0.3, 5, 10) == 0.3


def test_discriminative_multipliers() -> None:
    multipliers = layer_multipliers(["stem", "layer1", "head"], 0.1)
    assert multipliers == pytest.approx({"stem": 1e-2, "layer1": 0.1, "head": 1.0})

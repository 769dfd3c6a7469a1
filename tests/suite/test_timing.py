"""The one timing protocol: warm-up steps are counted apart, in seconds as well as in batches."""

import time

from suite.timing import ThroughputMeter


def _step(meter: ThroughputMeter, seconds: float, images: int = 8) -> None:
    meter.start_batch()
    time.sleep(seconds)
    meter.end_batch(images)


def test_warmup_seconds_are_kept_apart_from_steady_state() -> None:
    meter = ThroughputMeter(1)
    _step(meter, 0.05)
    _step(meter, 0.01)
    _step(meter, 0.01)
    assert meter.excluded_batches == 1 and meter.warmup_seconds >= 0.05
    assert 0.02 <= meter.steady_seconds < meter.warmup_seconds
    assert abs(meter.images_per_second - 16 / meter.steady_seconds) < 1e-9
    meter.rewarm()
    _step(meter, 0.03)
    assert meter.warmup_seconds >= 0.08 and meter.excluded_batches == 2


def test_without_steady_state_every_step_is_steady() -> None:
    meter = ThroughputMeter(2)
    _step(meter, 0.01)
    assert meter.warmup_seconds == 0.0 and meter.excluded_batches == 0 and meter.steady_seconds >= 0.01


def test_warmup_seconds_survive_a_resume_state_and_old_states_load() -> None:
    meter = ThroughputMeter(1)
    _step(meter, 0.02)
    _step(meter, 0.0)
    again = ThroughputMeter(1)
    again.from_state(meter.to_state())
    assert again.warmup_seconds == meter.warmup_seconds
    old = {key: value for key, value in meter.to_state().items() if key != "warmup_seconds"}
    again.from_state(old)
    assert again.warmup_seconds == 0.0 and again.steady_seconds == meter.steady_seconds


def test_the_first_batch_of_a_new_size_is_warm_up_when_asked() -> None:
    meter = ThroughputMeter(1, warm_new_sizes=True)
    for images in (8, 8, 8, 3, 8, 3):
        _step(meter, 0.001, images)
    assert meter.excluded_batches == 2  # the first batch, and the first of size 3
    assert abs(meter.images_per_second * meter.steady_seconds - (8 + 8 + 8 + 3)) < 1e-6
    plain = ThroughputMeter(1)
    for images in (8, 8, 3):
        _step(plain, 0.001, images)
    assert plain.excluded_batches == 1

"""The study's time-left estimate: from finished runs of the same configuration and epochs, else epoch seconds."""

import pytest

from suite.execution.eta import StudyClock, clock_text, estimate_seconds_left, result_key

MLP, CNN = ("mlp[backend=torch]", 10), ("cnn[backend=torch]", 4)


def test_a_pending_run_takes_as_long_as_the_finished_runs_of_its_configuration() -> None:
    finished = {MLP: [10.0, 14.0], CNN: [3.0]}
    assert estimate_seconds_left([MLP, MLP, CNN], finished, epoch_seconds=100.0) == pytest.approx(27.0)


def test_a_configuration_not_finished_yet_takes_its_epochs_times_the_epoch_seconds() -> None:
    assert estimate_seconds_left([MLP, CNN], {MLP: [12.0]}, epoch_seconds=0.5) == pytest.approx(12.0 + 4 * 0.5)
    with_start = estimate_seconds_left([CNN], {MLP: [12.0]}, epoch_seconds=0.5, run_overhead=3.0)
    assert with_start == pytest.approx(4 * 0.5 + 3.0)  # plus what finished runs spent outside their epochs


def test_same_configuration_with_other_epochs_is_not_the_same_key() -> None:
    longer = ("mlp[backend=torch]", 20)
    assert estimate_seconds_left([longer], {MLP: [12.0]}, epoch_seconds=1.5) == pytest.approx(30.0)


def test_jobs_share_the_work_but_never_more_jobs_than_pending_runs() -> None:
    finished = {MLP: [10.0]}
    assert estimate_seconds_left([MLP] * 4, finished, None, jobs=2) == pytest.approx(20.0)
    assert estimate_seconds_left([MLP], finished, None, jobs=4) == pytest.approx(10.0)


def test_unknown_until_something_is_measured_and_nothing_left_is_zero() -> None:
    assert estimate_seconds_left([MLP], {}, epoch_seconds=None) is None
    assert estimate_seconds_left([None], {}, epoch_seconds=2.0) is None
    assert estimate_seconds_left([None], {MLP: [8.0], CNN: [2.0]}, None) == pytest.approx(5.0)
    assert estimate_seconds_left([], {}, None) == 0.0


def test_clock_text_and_result_key() -> None:
    assert [clock_text(s) for s in (0, 65, 3725.4)] == ["0:00", "1:05", "1:02:05"]
    header = {"config_name": "mlp[backend=torch]", "spec": {"training": {"epochs": 10}}}
    assert result_key(header) == MLP and result_key({}) is None


def test_the_clock_counts_every_run_done_and_estimates_from_the_finished_ones() -> None:
    clock = StudyClock(3, [MLP, MLP, CNN], jobs=1)
    assert clock.line().startswith("0/3 runs done") and clock.line().endswith("time left unknown")
    clock.skipped(CNN)
    clock.started("a")
    clock.finished("a", MLP, completed=True)
    line = clock.line()
    assert line.startswith("2/3 runs done, 0:00 elapsed, about 0:00 left"), line
    clock.started("b")
    clock.finished("b", MLP, completed=False)
    assert clock.line().startswith("3/3 runs done") and clock.line().endswith("about 0:00 left")

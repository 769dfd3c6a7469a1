"""The executor's terminal display: run counters and lines that stay whole when piped."""

import io

from rich.console import Console

from suite.execution.display import Display


def _display(total: int, concurrent: bool) -> tuple[Display, io.StringIO]:
    buffer = io.StringIO()
    return Display(quiet=False, total_runs=total, concurrent=concurrent, console=Console(file=buffer)), buffer


def test_concurrent_runs_count_up_to_the_total() -> None:
    display, buffer = _display(3, concurrent=True)
    with display:
        display.run_started("a")
        display.run_started("b")  # both start before either ends (--jobs 2)
        display.run_finished("a", "completed", {})
        display.run_skipped("c")
        display.run_finished("b", "completed", {})
    lines = buffer.getvalue().splitlines()
    assert [line.split("]")[0] + "]" for line in lines if line.startswith("[")] == ["[1/3]", "[2/3]", "[3/3]"]


def test_sequential_runs_count_as_before() -> None:
    display, buffer = _display(2, concurrent=False)
    with display:
        display.run_skipped("a")
        display.run_started("b")
        display.run_finished("b", "completed", {})
    assert "[1/2] a: already completed, skipped" in buffer.getvalue()
    assert "[2/2] b: starting" in buffer.getvalue()


def test_an_epoch_reads_the_same_on_the_console_as_in_history_csv() -> None:
    from suite.runners.protocol import numbered_history

    display, buffer = _display(1, concurrent=True)
    with display:
        display.handle_event({"event": "epoch_end", "epoch": 0, "metrics": {"val_accuracy": 0.5}}, "a")
    assert "a: epoch 1: val_accuracy 0.5" in buffer.getvalue()
    assert numbered_history([{"epoch": 0, "val_accuracy": 0.5}]) == [{"epoch": 1, "val_accuracy": 0.5}]


def test_the_batchnorm_note_is_said_once_and_only_when_backends_are_compared() -> None:
    from suite.architectures.parity_notes import BATCHNORM_VARIANCE
    from suite.execution.display import applicable_notes

    note = {"event": "message", "text": BATCHNORM_VARIANCE}
    for backends, expected in ((1, 0), (2, 1)):
        buffer = io.StringIO()
        display = Display(quiet=False, total_runs=2, concurrent=True, console=Console(file=buffer), backends=backends)
        with display:
            display.handle_event(note, "resnet18[backend=torch]")
            display.handle_event(note, "resnet18[backend=keras]")
            display.handle_event({"event": "message", "text": "epoch 2: unfroze layer4"}, "resnet18[backend=torch]")
        assert buffer.getvalue().count("BatchNorm running variance") == expected
        assert "unfroze layer4" in buffer.getvalue()
    assert applicable_notes([BATCHNORM_VARIANCE, "other"], 1) == ["other"]
    assert applicable_notes([BATCHNORM_VARIANCE, "other"], 2) == [BATCHNORM_VARIANCE, "other"]


def test_the_progress_line_reaches_the_total_with_two_jobs() -> None:
    buffer = io.StringIO()
    planned = {"a": ("m", 2), "b": ("m", 2), "c": ("m", 2)}
    display = Display(False, 3, concurrent=True, console=Console(file=buffer, width=200), planned=planned, jobs=2)
    with display:
        display.run_started("a")
        display.run_started("b")
        display.handle_event({"event": "epoch_start", "epoch": 0, "total_epochs": 2}, "a")
        display.handle_event({"event": "epoch_end", "epoch": 0, "metrics": {}}, "a")
        display.run_finished("b", "completed", {"config_name": "m", "spec": {"training": {"epochs": 2}}})
        display.run_started("c")
        display.run_finished("a", "failed", {"error": "boom"})
        display.run_finished("c", "completed", {})
    progress = [line.strip() for line in buffer.getvalue().splitlines() if "runs done" in line]
    assert [line.split(",")[0] for line in progress] == ["1/3 runs done", "2/3 runs done", "3/3 runs done"]
    assert "left" in progress[0] and "elapsed" in progress[0]

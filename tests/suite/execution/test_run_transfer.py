"""A run directory as bytes and back: what travels, in which order it lands, what the worker removed goes too."""

from __future__ import annotations

import json
from pathlib import Path

from suite import store
from suite.execution import run_transfer
from suite.execution.launch import LOG_FILE
from suite.execution.run_transfer import (
    RESUME_DIR,
    RESUME_POINTER,
    mirror_resume,
    pack_run,
    read_tree,
    resume_snapshot,
    write_back,
    write_files,
)

STATE_1 = (RESUME_DIR / "epoch-0001-aa").as_posix()
STATE_2 = (RESUME_DIR / "epoch-0002-bb").as_posix()


def _pointer(name: str, epoch: int) -> bytes:
    return json.dumps({"directory": Path(name).name, "epoch": epoch}).encode()


def _run_dir(tmp_path: Path) -> Path:
    run = tmp_path / "run"
    files = {
        store.SPEC_FILE: b"spec",
        store.RESULT_FILE: b'{"status": "running"}',
        LOG_FILE: b"log so far\n",
        f"{STATE_1}/core.json": b"one",
        f"{STATE_1}/session/weights.bin": b"w1",
        RESUME_POINTER: _pointer(STATE_1, 1),
        "history.csv": b"not needed by the node",
        ".lock": b"",
    }
    write_files(run, files)
    return run


def test_a_node_gets_the_spec_header_log_and_resume_state_never_the_lock(tmp_path: Path) -> None:
    sent = pack_run(_run_dir(tmp_path))
    assert set(sent) == {
        store.SPEC_FILE, store.RESULT_FILE, LOG_FILE, f"{STATE_1}/core.json", f"{STATE_1}/session/weights.bin",
        RESUME_POINTER,
    }  # fmt: skip
    node = tmp_path / "node"
    write_files(node, sent)
    assert read_tree(node) == sent


def test_files_land_deepest_first_pointer_next_result_last(tmp_path: Path, monkeypatch) -> None:
    written: list[str] = []
    monkeypatch.setattr(store, "write_atomic", lambda path, data: written.append(path.relative_to(tmp_path)))
    write_files(tmp_path, {store.RESULT_FILE: b"r", RESUME_POINTER: b"p", f"{STATE_2}/session/w": b"w", "a": b"a"})
    assert [p.as_posix() for p in written] == [f"{STATE_2}/session/w", "a", RESUME_POINTER, store.RESULT_FILE]


def test_a_new_resume_state_replaces_the_old_one(tmp_path: Path) -> None:
    run = _run_dir(tmp_path)
    node = tmp_path / "node"
    write_files(node, pack_run(run))
    assert resume_snapshot(node, (node / RESUME_POINTER).read_bytes()) is None  # unchanged: nothing to send
    write_files(node, {f"{STATE_2}/core.json": b"two", RESUME_POINTER: _pointer(STATE_2, 2)})
    (node / STATE_1 / "core.json").unlink()
    (node / STATE_1 / "session" / "weights.bin").unlink()
    pointer, files = resume_snapshot(node, _pointer(STATE_1, 1))
    assert pointer == _pointer(STATE_2, 2) and set(files) == {f"{STATE_2}/core.json", RESUME_POINTER}
    mirror_resume(run, files)
    assert read_tree(run, run / RESUME_DIR) == files and not (run / STATE_1).exists()
    assert (run / "history.csv").exists() and (run / ".lock").exists()


def test_the_returned_directory_replaces_the_run_and_a_cleared_resume_state_goes(tmp_path: Path) -> None:
    run = _run_dir(tmp_path)
    sent = pack_run(run)
    returned = {
        store.SPEC_FILE: b"spec",
        store.RESULT_FILE: b'{"status": "completed"}',
        LOG_FILE: b"log so far\nand the rest\n",
        "history.csv": b"h",
        "predictions.npz": b"p",
    }
    write_back(run, returned, sent)
    assert read_tree(run) == returned and (run / ".lock").exists()
    assert not (run / "checkpoints").exists()  # the worker cleared its resume state, and checkpoints/ was empty


def test_a_state_replaced_while_read_is_taken_next_time(tmp_path: Path, monkeypatch) -> None:
    node = tmp_path / "node"
    write_files(node, {f"{STATE_1}/core.json": b"one", RESUME_POINTER: _pointer(STATE_1, 1)})
    assert resume_snapshot(tmp_path / "nothing-yet", None) is None
    real_read_tree = run_transfer.read_tree

    def replaced_meanwhile(root: Path, start: Path | None = None) -> dict[str, bytes]:
        return {**real_read_tree(root, start), RESUME_POINTER: _pointer(STATE_2, 2)}

    monkeypatch.setattr(run_transfer, "read_tree", replaced_meanwhile)
    assert resume_snapshot(node, None) is None
    monkeypatch.setattr(run_transfer, "read_tree", real_read_tree)
    assert resume_snapshot(node, None) == (_pointer(STATE_1, 1), read_tree(node, node / RESUME_DIR))

"""A backend whose framework is installed but broken (importing it raises) is unavailable, with the reason."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from suite.runners import import_probe, registry
from suite.runners.capabilities import RunnerCapabilities


@pytest.fixture
def broken_backend(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> registry.RunnerEntry:
    """Backend ``broken`` needing module ``broken_fw_xyz``, which is found but raises when imported."""
    (tmp_path / "broken_fw_xyz").mkdir()
    (tmp_path / "broken_fw_xyz" / "__init__.py").write_text('raise ImportError("libfw.so: cannot open shared object")')
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("PYTHONPATH", f"{tmp_path}:{Path(__file__).resolve().parents[3]}")
    monkeypatch.delitem(sys.modules, "broken_fw_xyz", raising=False)
    monkeypatch.setattr(import_probe, "_ANSWERS", {})
    monkeypatch.setattr(registry, "_RUNNERS", dict(registry.discover()))
    capabilities = RunnerCapabilities()
    registry.register_runner("broken", requires=("broken_fw_xyz",), capabilities=capabilities)(lambda: None)
    return registry.get_runner_entry("broken")


def test_the_probe_imports_in_a_child_and_says_why(broken_backend: registry.RunnerEntry) -> None:
    assert broken_backend.availability() == (True, "ok")  # found: without the probe nothing is imported
    ok, reason = broken_backend.availability(probe=True)
    assert not ok
    assert reason == "importing broken_fw_xyz fails: ImportError: libfw.so: cannot open shared object (reinstall it)"
    assert "broken_fw_xyz" not in sys.modules  # the child imported it, not this process


def test_the_probe_asks_once_per_command(broken_backend: registry.RunnerEntry, monkeypatch: pytest.MonkeyPatch) -> None:
    broken_backend.availability(probe=True)
    monkeypatch.setattr(import_probe, "_ask_child", lambda *args: pytest.fail("asked a second time"))
    assert not broken_backend.availability(probe=True)[0]


def test_creating_the_runner_is_unavailable_not_a_crash(broken_backend: registry.RunnerEntry) -> None:
    with pytest.raises(registry.BackendUnavailableError, match="'broken' is unavailable: importing broken_fw_xyz"):
        registry.create_runner("broken")

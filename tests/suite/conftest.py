"""Fixtures shared by the core's tests: the plain-numpy backend installed as an entry-point plugin."""

import os
import sys
import textwrap
from pathlib import Path

import pytest

from suite.runners import registry

PLUGIN = '''
"""A plugin backend: the plain-numpy backend of tests/numpy_backend.py, plus one whose framework is missing."""
from numpy_backend import NumpyRunner
from suite.runners.capabilities import RunnerCapabilities
from suite.runners.registry import register_runner


@register_runner(
    "centroid", requires=(), capabilities=NumpyRunner.capabilities, description="test plugin (plain numpy)"
)
def create():
    return NumpyRunner()


@register_runner(
    "missing",
    requires=("no_such_framework_xyz",),
    capabilities=RunnerCapabilities(),
    description="needs a framework not installed",
)
def create_missing():
    raise AssertionError("never created: its framework is missing")
'''


def install_plugin(site: Path) -> Path:
    """Write the plugin package, tests/numpy_backend.py and an entry-point dist-info into ``site``."""
    (site / "centroid_plugin").mkdir(parents=True)
    (site / "centroid_plugin" / "__init__.py").write_text(textwrap.dedent(PLUGIN))
    (site / "numpy_backend.py").write_text((Path(__file__).parents[1] / "numpy_backend.py").read_text())
    info = site / "centroid_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: centroid-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[suite.runners]\ncentroid = centroid_plugin\n")
    return site


@pytest.fixture
def plugin_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Backends ``centroid`` (numpy) and ``missing`` registered for this test and its worker processes."""
    # The plugin's backends stay registered for this test only: later tests see the installed backends alone.
    monkeypatch.setattr(registry, "_RUNNERS", dict(registry.discover()))
    for module in ("centroid_plugin", "numpy_backend"):
        monkeypatch.delitem(sys.modules, module, raising=False)
    site = install_plugin(tmp_path / "site")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")])))
    return site


@pytest.fixture(scope="session")
def plugin_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same plugin written once per session, for module-scoped fixtures (pass it as PYTHONPATH)."""
    return install_plugin(tmp_path_factory.mktemp("plugin") / "site")

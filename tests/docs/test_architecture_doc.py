"""docs/ARCHITECTURE.md names modules that exist, and ``suite/`` shows its rooms at a glance."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SUITE = ROOT / "suite"
MAX_ROOT_MODULES = 6


def test_every_module_the_architecture_names_exists() -> None:
    text = (ROOT / "docs" / "ARCHITECTURE.md").read_text()
    named = set(re.findall(r"`((?:suite|torch_impl|keras_impl|reports|tests)/[\w/]+\.py)`", text))
    assert len(named) > 20
    missing = sorted(path for path in named if not (ROOT / path).is_file())
    assert not missing, f"docs/ARCHITECTURE.md names modules that do not exist: {missing}"


def test_suite_root_holds_few_modules() -> None:
    modules = sorted(path.name for path in SUITE.glob("*.py"))
    assert len(modules) <= MAX_ROOT_MODULES, modules


def test_every_subpackage_says_what_it_owns() -> None:
    packages = [
        path.parent
        for path in ROOT.glob("*/**/__init__.py")
        if path.parts[len(ROOT.parts)] in {"suite", "torch_impl", "keras_impl", "reports"}
    ]
    assert packages
    for package in packages:
        docstring = ast.get_docstring(ast.parse((package / "__init__.py").read_text()))
        assert docstring and len(docstring.split()) >= 12, f"{package.relative_to(ROOT)} has no opening docstring"

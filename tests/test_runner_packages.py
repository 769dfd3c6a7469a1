"""The runner packages execute the plan, never the spec, and mirror each other module by module.

Before planning a runner may read the spec in two places only: its framework check (``checks.py``, behind
``Runner.check``) and its model builders (``models/``, which read the ``ModelSpec`` of the build request).
Every other runner module works from the :class:`~suite.plan.TrainingPlan` and the
:class:`~suite.plan.BuildRequest`, so it neither reads ``spec.<field>`` nor imports a spec section.
"""

import ast
import re
from pathlib import Path

import pytest

from suite.runners import protocol

ROOT = Path(__file__).parents[1]
PACKAGES = ("torch_impl", "keras_impl")
PRE_PLANNING = {"checks.py"}  # Runner.check: framework facts about a spec, before the plan exists
MODEL_BUILDERS = "models"  # read the build request's ModelSpec
MAY_NAME_EXPERIMENT_SPEC = {"checks.py", "runner.py"}  # runner.py: the signature of Runner.check only


def _modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def _relative(path: Path, package: str) -> str:
    return path.relative_to(ROOT / package).as_posix()


def _is_spec(node: ast.AST) -> bool:
    """``spec`` or ``<anything>.spec``."""
    named = node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else None
    return named == "spec"


def spec_reads(tree: ast.AST) -> list[str]:
    """Every ``spec.<field>`` / ``self.spec.<field>`` read in ``tree``, as ``line: spec.field``."""
    return [f"{node.lineno}: spec.{node.attr}" for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and _is_spec(node.value)]  # fmt: skip


def spec_imports(tree: ast.AST, allowed: set[str]) -> list[str]:
    """Spec sections imported from ``suite.spec.models`` besides ``allowed`` (``ModelSpec`` is the build step's)."""
    return [f"{node.lineno}: {alias.name}" for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module == "suite.spec.models"
            for alias in node.names
            if alias.name.endswith("Spec") and alias.name not in allowed]  # fmt: skip


def _violations(package: str) -> list[str]:
    found = []
    for path in _modules(package):
        name = _relative(path, package)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if name not in PRE_PLANNING and not name.startswith(f"{MODEL_BUILDERS}/"):
            found += [f"{package}/{name}:{hit}" for hit in spec_reads(tree)]
        allowed = {"ModelSpec"} | ({"ExperimentSpec"} if name in MAY_NAME_EXPERIMENT_SPEC else set())
        if name not in PRE_PLANNING:
            found += [f"{package}/{name}:{hit} (import)" for hit in spec_imports(tree, allowed)]
    return found


@pytest.mark.parametrize("package", PACKAGES)
def test_no_runner_module_reads_the_spec_after_planning(package: str) -> None:
    found = _violations(package)
    assert not found, "runner modules reading the spec instead of the plan:\n" + "\n".join(found)


@pytest.mark.parametrize("package", PACKAGES)
def test_a_session_is_opened_from_the_build_request_and_the_plan(package: str) -> None:
    tree = ast.parse((ROOT / package / "runner.py").read_text(encoding="utf-8"))
    [opener] = [node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef) and node.name == "open_session"]
    assert [arg.arg for arg in opener.args.args] == ["self", "request", "plan", "initial_weights", "run_dir"]


def test_the_check_finds_a_spec_read_in_a_session() -> None:
    session = "class S:\n    def step(self):\n        return self.spec.training.grad_clip\n"
    assert spec_reads(ast.parse(session)) == ["3: spec.training"]
    assert spec_reads(ast.parse("clip = spec.training.grad_clip\n")) == ["1: spec.training"]
    assert not spec_reads(ast.parse("clip = self.plan.optimizer.grad_clip\n"))
    imported = ast.parse("from suite.spec.models import ModelSpec, TrainingSpec\n")
    assert spec_imports(imported, {"ModelSpec"}) == ["1: TrainingSpec"]


def job_table(doc: str) -> dict[str, list[str]]:
    """``{module: [public names]}`` from the ``- ``module`` (``name``, ...): job`` lines of a docstring."""
    rows = re.findall(r"^- ``([\w/]+)``(?: \(([^)]*)\))?:", doc, flags=re.MULTILINE)
    return {module: re.findall(r"``(\w+)``", names) for module, names in rows}


def _defined(path: Path) -> set[str]:
    """Top-level functions, classes and assigned names of a module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
    return names | {target.id for node in tree.body if isinstance(node, ast.Assign)
                    for target in node.targets if isinstance(target, ast.Name)}  # fmt: skip


def test_the_runner_packages_mirror_each_other_module_by_module() -> None:
    """Same module name, same job and public names: the table in suite/runners/protocol.py, in both packages."""
    table = job_table(protocol.__doc__ or "")
    modules = {name.removesuffix(".py") for name in _module_names(PACKAGES[0]) | _module_names(PACKAGES[1])}
    assert modules == set(table) - {f"{MODEL_BUILDERS}/"}, "the job table and the runner modules differ"
    missing = [f"{package}/{module}.py: {name}" for module, names in table.items() if names
               for package in PACKAGES
               for name in names if name not in _defined(ROOT / package / f"{module}.py")]  # fmt: skip
    assert not missing, "public names of the job table missing:\n" + "\n".join(missing)


def _module_names(package: str) -> set[str]:
    """The package's modules outside ``models/`` (each family builds its models its own way)."""
    names = {_relative(path, package) for path in _modules(package)}
    return {name for name in names if not name.startswith(f"{MODEL_BUILDERS}/")}


def test_the_job_table_reads_names_and_modules() -> None:
    doc = "- ``state`` (``save_state``, ``load_state``): resume.\n- ``runner``: the Runner.\n"
    assert job_table(doc) == {"state": ["save_state", "load_state"], "runner": []}

"""The core holds no branch on a backend's name: no comparison in suite/ involves a framework's name."""

import ast
from pathlib import Path

SUITE = Path(__file__).parents[2] / "suite"
FRAMEWORK_NAMES = {"torch", "keras", "tensorflow", "jax", "torchvision"}


def _names_in(node: ast.AST) -> set[str]:
    return {
        child.value.lower()
        for child in ast.walk(node)
        if isinstance(child, ast.Constant) and isinstance(child.value, str)
    } & FRAMEWORK_NAMES


def _branches_on_names(tree: ast.AST) -> list[tuple[int, set[str]]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and _names_in(node):
            found.append((node.lineno, _names_in(node)))
        if isinstance(node, ast.match_case) and _names_in(node.pattern):
            found.append((node.pattern.lineno, _names_in(node.pattern)))
    return found


def test_no_branch_on_a_backend_name_in_the_core() -> None:
    found = [
        f"{path.relative_to(SUITE.parent)}:{line}: {sorted(names)}"
        for path in sorted(SUITE.rglob("*.py"))
        for line, names in _branches_on_names(ast.parse(path.read_text(encoding="utf-8")))
    ]
    assert not found, "branches on backend names in the core:\n" + "\n".join(found)


def test_the_check_finds_such_a_branch() -> None:
    assert _branches_on_names(ast.parse('if spec.backend == "keras":\n    pass\n'))
    assert _branches_on_names(ast.parse('x = name in ("torch", "other")\n'))
    assert not _branches_on_names(ast.parse('default = "torch"\n'))

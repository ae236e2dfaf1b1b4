"""Every child-reporting requirement (CR-01 … CR-16, ../shared/reference/child-reporting.md)
is covered by at least one test, marked `@pytest.mark.cr("CR-xx", ...)` on the test function
(or its module's `pytestmark`). Read statically, so this test does not need to run the suite."""

from __future__ import annotations

import ast
import re
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
REQUIREMENTS = [f"CR-{n:02d}" for n in range(1, 17)]
_ID = re.compile(r"^CR-\d{2}$")


def _cr_ids(decorator: ast.expr) -> list[str]:
    """The ids in `pytest.mark.cr("CR-01", ...)`, else []."""
    if not (isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Attribute)
            and decorator.func.attr == "cr"):
        return []
    return [a.value for a in decorator.args
            if isinstance(a, ast.Constant) and isinstance(a.value, str)]


def coverage() -> dict[str, list[str]]:
    """CR id → the tests (path::name) marked with it."""
    found: dict[str, list[str]] = {}
    for path in sorted(TESTS.rglob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        module_ids: list[str] = []
        for node in tree.body:  # pytestmark = pytest.mark.cr(...) or [..., pytest.mark.cr(...)]
            if isinstance(node, ast.Assign) and any(
                    isinstance(t, ast.Name) and t.id == "pytestmark" for t in node.targets):
                values = node.value.elts if isinstance(node.value, ast.List) else [node.value]
                for value in values:
                    module_ids += _cr_ids(value)
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) \
                    and node.name.startswith("test_"):
                ids = module_ids + [i for d in node.decorator_list for i in _cr_ids(d)]
                for cr in ids:
                    found.setdefault(cr, []).append(f"{path.relative_to(TESTS)}::{node.name}")
    return found


def test_marker_ids_are_well_formed() -> None:
    bad = [cr for cr in coverage() if not _ID.match(cr) or cr not in REQUIREMENTS]
    assert bad == [], f"unknown requirement ids in cr markers: {bad}"


def test_every_requirement_is_covered_by_a_test() -> None:
    found = coverage()
    missing = [cr for cr in REQUIREMENTS if cr not in found]
    assert missing == [], f"no test is marked with {missing}"


def test_the_scanner_sees_markers() -> None:
    # Guard against a scanner that finds nothing and so could never fail the test above.
    found = coverage()
    assert "reports/test_service.py::test_withdraw_deletes_data_and_hashes_and_keeps_a_tombstone" \
        in found["CR-15"]

"""Module layout of grading: the grade-time path stays off the offline fitting code, and the
grader and the calibration do not import each other."""

from __future__ import annotations

import subprocess
import sys


def _modules_after(statement: str) -> set[str]:
    code = f"import sys\n{statement}\nprint('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    return set(out.split())


def test_grade_path_does_not_import_fitting() -> None:
    mods = _modules_after(
        "import labdeck.grading.build, labdeck.grading.grader, labdeck.grading.personal"
    )
    assert "labdeck.grading.grader" in mods
    assert "labdeck.grading.fitting" not in mods
    assert "scipy" not in mods


def test_calibration_does_not_import_the_grader() -> None:
    mods = _modules_after("import labdeck.grading.calibration")
    assert "labdeck.grading.calibration" in mods
    assert "labdeck.grading.grader" not in mods


def _imports(module: str) -> set[str]:
    """Every module ``module``'s source imports, at any level (lazy and TYPE_CHECKING too)."""
    import ast
    import importlib.util

    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin is not None
    with open(spec.origin, encoding="utf-8") as fh:
        tree = ast.parse(fh.read())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
    return found


def test_no_grader_calibration_cycle_and_no_fitting_in_the_runtime() -> None:
    calibration = _imports("labdeck.grading.calibration")
    assert "labdeck.grading.grader" not in calibration
    assert not {m for m in calibration if m.startswith(("labdeck.grading.fitting", "scipy"))}
    assert "labdeck.grading.calibration" not in _imports("labdeck.grading.signals")

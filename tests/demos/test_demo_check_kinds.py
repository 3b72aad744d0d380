"""Exactness checks stay exactness checks: a check whose name promises exactness (``exact_...``)
is declared exact in every registry demo, and a changed knob never turns a failed one into a
"changed" note."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import pytest

from labdeck.demos import registry
from labdeck.demos.events import EXACT, at_most, exact_tolerance, is_true, settle

_BUILDERS = {"at_most", "at_least", "is_true"}


def _declared_checks(demo: registry.Demo) -> dict[str, bool]:
    """{check name: declared exact} for every check literal in the demo's module source."""
    spec = importlib.util.find_spec(demo.module)
    assert spec is not None and spec.origin is not None, demo.module
    tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
    out: dict[str, bool] = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Dict):
            continue
        for key, value in zip(node.keys, node.values, strict=True):
            if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
                continue
            if not (isinstance(value, ast.Call) and isinstance(value.func, ast.Name)):
                continue
            name = value.func.id
            if name == "exact":
                out[key.value] = True
            elif name in _BUILDERS:
                kind = [k.value for k in value.keywords if k.arg == "kind"]
                kind += value.args[2:3]  # (value, limit|target, kind)
                out[key.value] = any(isinstance(k, ast.Name) and k.id == "EXACT" for k in kind)
    return out


@pytest.mark.parametrize("demo", registry.all_demos(), ids=lambda d: d.id)
def test_every_check_named_exact_is_declared_exact(demo: registry.Demo) -> None:
    declared = _declared_checks(demo)
    assert any(declared.values()), f"{demo.id}: no exactness check found"
    wrong = [name for name, is_exact in declared.items() if name.startswith("exact_")]
    wrong = [name for name in wrong if not declared[name]]
    assert not wrong, f"{demo.id}: named exact but declared as quality expectations: {wrong}"


def test_a_failed_exact_check_fails_whatever_knob_changed() -> None:
    checks = {
        "exact_merge": at_most(1e-3, 1e-10),  # builder default: quality
        "loss_low": at_most(2.0, 1.0),
        "marked": is_true(False, kind=EXACT),
    }
    out = settle(checks, {"lr": 0.1})
    assert out["exact_merge"]["kind"] == "exact" and out["exact_merge"]["passed"] is False
    assert out["marked"]["passed"] is False
    assert out["loss_low"]["passed"] is None and out["loss_low"]["changed"].startswith("changed")
    assert exact_tolerance(out) == (2, 1e-10)

"""The import-linter contracts in pyproject.toml hold (core UI-free, nothing imports the CLI,
no cycles between top-level modules), and their module lists cover every top-level module."""

from __future__ import annotations

import os
import pkgutil
import subprocess
import sys
import tomllib
from pathlib import Path

import labdeck

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"


def _contracts() -> dict[str, dict]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    return {c["name"]: c for c in config["contracts"]}


def _top_level() -> set[str]:
    return {f"labdeck.{m.name}" for m in pkgutil.iter_modules(labdeck.__path__)}


def test_contracts_name_every_top_level_module() -> None:
    """A new top-level module is covered by the forbidden contracts without anyone remembering."""
    contracts = _contracts()
    ui_free = next(c for c in contracts.values() if "labdeck.tui" in c["forbidden_modules"])
    no_cli = next(c for c in contracts.values() if c["forbidden_modules"] == ["labdeck.cli"])
    top = _top_level()
    assert set(ui_free["source_modules"]) == top - {"labdeck.tui", "labdeck.serve", "labdeck.cli"}
    assert set(no_cli["source_modules"]) == top - {"labdeck.cli"}


def test_cycle_contract_ignores_no_imports() -> None:
    """The layering is honest: no import is exempted from the no-cycles contract (the feature
    commands get the workspace from cli.py rather than importing it)."""
    acyclic = next(c for c in _contracts().values() if c["type"] == "acyclic_siblings")
    assert acyclic.get("ignore_imports", []) == []


def test_lint_imports_passes() -> None:
    """`lint-imports` (import-linter, in the test extra) on this checkout's source."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
    }
    command = "import sys; from importlinter.cli import lint_imports_command as c; sys.exit(c())"
    result = subprocess.run(
        [sys.executable, "-c", command, "--no-cache"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout

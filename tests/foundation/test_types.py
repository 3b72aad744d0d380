"""`mypy --strict` (configured in pyproject.toml) finds nothing in the typed core, and the same
configuration still finds errors planted in it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Packages and modules held to zero mypy errors.
PACKAGES = ("store", "exam", "demos", "ingest", "drills", "export", "srs", "grading", "tui")
MODULES = ("workspace", "config", "clock", "jsonl", "textfmt", "notecheck")

# Both tests share one cold check (its cache): they run on one worker.
pytestmark = pytest.mark.xdist_group("mypy")


def mypy(cache: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    targets = [a for p in PACKAGES for a in ("-p", f"labdeck.{p}")]
    targets += [a for m in MODULES for a in ("-m", f"labdeck.{m}")]
    src = str(ROOT / "src")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(cache), *extra, *targets],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=840,
    )


@pytest.fixture(scope="module")
def checked(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[subprocess.CompletedProcess[str], Path]:
    """One cold run over the core and the TUI (textual's, torch's and SQLAlchemy's own types
    included) and the cache it leaves."""
    cache = tmp_path_factory.mktemp("mypy") / "cache"
    return mypy(cache), cache


# A cold run: 40 s of CPU before the follow_imports skips in pyproject.toml, 18 s after; up to
# minutes of wall time on a loaded machine, so the suite's 300 s default is too tight.
@pytest.mark.slow
@pytest.mark.timeout(900)
def test_core_is_strictly_typed(checked: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    result, _cache = checked
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert result.stdout.startswith("Success: no issues found")


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_planted_errors_are_found(
    checked: tuple[subprocess.CompletedProcess[str], Path], tmp_path: Path
) -> None:
    """The configuration still catches what it should: a wrong argument to transformers' BERT
    config (the part of transformers kept followed), a method torch's Tensor lacks, and an
    unannotated function (--strict). mypy reads the planted copy in place of the real file
    (--shadow-file), so the warm cache rechecks that one module: about a second."""
    result, cache = checked
    assert result.returncode == 0, result.stdout[-6000:]
    real = ROOT / "src" / "labdeck" / "demos" / "attention.py"
    source = real.read_text(encoding="utf-8")
    planted = source.replace(
        "        hidden_size=d_model,\n", "        hidden_size=str(d_model),\n", 1
    )
    planted = planted.replace(
        "    layer = BertLayer(config)",
        "    x.no_such_tensor_method()\n    layer = BertLayer(config)",
        1,
    )
    planted += "\n\ndef planted_untyped(value):\n    return value\n"
    assert planted.count("\n") == source.count("\n") + 5, "the planting spots moved"
    shadow = tmp_path / "attention.py"
    shadow.write_text(planted, encoding="utf-8")
    found = mypy(cache, "--shadow-file", str(real), str(shadow))
    assert found.returncode == 1, found.stdout[-6000:] + found.stderr[-2000:]
    out = found.stdout
    assert 'Argument "hidden_size" to "BertConfig" has incompatible type "str"' in out, out
    assert '"Tensor" has no attribute "no_such_tensor_method"' in out, out
    assert "Function is missing a type annotation" in out, out
    assert "Found 3 errors in 1 file" in out, out

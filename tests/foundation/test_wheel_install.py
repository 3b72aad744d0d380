"""A regular (non-editable) install carries the migrations and the shipped deck."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    # Built from a clean copy: a checkout's stale build/ or *.egg-info/SOURCES.txt would add
    # files that package-data no longer names.
    tree = tmp_path_factory.mktemp("tree")
    skip = shutil.ignore_patterns("*.egg-info", "build", "__pycache__", "*.pyc", "*.db")
    for name in ("src", "migrations", "content"):
        shutil.copytree(ROOT / name, tree / name, ignore=skip)
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy2(ROOT / name, tree / name)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(tree),
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
        ],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("labdeck-*.whl")
    return built


def test_wheel_bundles_migrations_and_content(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    migrations = sorted(p.name for p in (ROOT / "migrations" / "versions").glob("*.py"))
    for name in migrations:
        assert f"labdeck/_bundled/migrations/versions/{name}" in names
    assert "labdeck/_bundled/migrations/env.py" in names
    decks = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "content").rglob("*.toml"))
    assert decks
    for deck in decks:
        assert f"labdeck/_bundled/{deck}" in names
    assert not any("__pycache__" in n for n in names)
    assert "labdeck/serve/templates/app_index.html" in names  # `labdeck serve`'s page
    assert "labdeck/demos/data/garden.txt" in names  # the decoding demo's training text
    lexicon = sorted((ROOT / "src" / "labdeck" / "grading" / "lexicon").glob("*.toml"))
    assert lexicon  # the grader's word lists (contradiction cues, stop words)
    for path in lexicon:
        assert f"labdeck/grading/lexicon/{path.name}" in names


def test_installed_wheel_opens_a_store_and_loads_the_deck(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "-q",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    env = {**os.environ, "PYTHONPATH": str(target), "LABDECK_HOME": str(tmp_path / "home")}
    env.pop("LABDECK_CONTENT", None)
    where = subprocess.run(
        [
            sys.executable,
            "-c",
            "import labdeck.store.db as d, labdeck.config as c;"
            "print(d.migrations_dir()); print(c.content_dir())",
        ],
        cwd=tmp_path,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    assert where == [
        str(target / "labdeck" / "_bundled" / "migrations"),
        str(target / "labdeck" / "_bundled" / "content"),
    ]
    lexicon = subprocess.run(
        [
            sys.executable,
            "-c",
            "from labdeck.grading import contradict, lexicon;"
            "print(lexicon.__file__, len(contradict.PAIRS), len(lexicon.stop_words('key_terms', 'en')))",
        ],
        cwd=tmp_path,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    assert lexicon[0].startswith(str(target))
    assert int(lexicon[1]) > 0 and int(lexicon[2]) > 0
    due = subprocess.run(
        [sys.executable, "-m", "labdeck.cli", "due"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert due.returncode == 0, due.stderr
    assert "All decks" in due.stdout
    assert (tmp_path / "home" / "labdeck.db").exists()

"""The import screen as a learner meets it: the file picker opens in the home directory and
the preview lists the questions, in the language the document writes them (Pilot, real db)."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input, Static
from tuihelpers import settle, wait_for

from labdeck.tui.screens.importer import ImportScreen

SIZE = (120, 36)

OUTLINE = """---
title: Linguistics notes
---

# A1 Linguistic structure

## 语言结构

结构的笔记。

## 什么是句法树？

一个问题。
"""


@pytest.fixture
def learner_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """HOME is a folder with the learner's documents; the working directory is elsewhere."""
    home = tmp_path / "learner"
    (home / "notes").mkdir(parents=True)
    (home / "linguistics.md").write_text(OUTLINE, encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "not-here.md").write_text("# x\n", encoding="utf-8")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(elsewhere)
    return home


async def test_picker_opens_in_the_home_directory(make_app, learner_home: Path) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("i")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ImportScreen)
        tree = screen.query_one("#import-tree")
        assert Path(tree.path) == learner_home
        await wait_for(pilot, lambda: len(tree.root.children) == 2)
        names = sorted(str(node.label) for node in tree.root.children)
        assert names == ["linguistics.md", "notes"]


async def test_preview_lists_questions_not_keys(make_app, services, learner_home: Path) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("i")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ImportScreen)
        await pilot.press("ctrl+l")
        screen.query_one("#import-path", Input).value = str(learner_home / "linguistics.md")
        await pilot.press("enter")  # the preview: a dry run
        await wait_for(pilot, lambda: not screen.busy)
        await settle(pilot)
        report = str(screen.query_one("#import-report", Static).render())
        assert "Preview (dry run" in report
        assert "+ A1 Linguistic structure › 语言结构 (Linguistic structure)" in report
        assert "+ 什么是句法树？" in report
        assert "linguistics-notes:" not in report  # no card keys


async def test_preview_of_notes_names_heading_and_card(make_app, services, seed_outline) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.push_screen(ImportScreen(root=seed_outline.parent))
        await settle(pilot)
        screen = app.screen
        screen.query_one("#import-path", Input).value = str(seed_outline)
        await pilot.press("f5")
        await wait_for(pilot, lambda: not screen.busy)
        await settle(pilot)
        report = str(screen.query_one("#import-report", Static).render())
        assert "Notes attached to deck exam-c" in report
        assert "✎ 基于能量的建模 → " in report
        assert "exam-c:c1." not in report


async def test_a_typed_folder_opens_in_the_picker(
    make_app, services, learner_home: Path, tmp_path: Path
) -> None:
    """The tree cannot climb above the home directory: typing a folder's path and enter shows
    that folder, and a file picked there previews as usual."""
    elsewhere = tmp_path / "elsewhere"
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("i")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ImportScreen)
        await pilot.press("ctrl+l")
        screen.query_one("#import-path", Input).value = str(elsewhere)
        await pilot.press("enter")
        await settle(pilot)
        tree = screen.query_one("#import-tree")
        assert Path(tree.path) == elsewhere
        await wait_for(pilot, lambda: len(tree.root.children) == 1)
        assert [str(n.label) for n in tree.root.children] == ["not-here.md"]
        assert app.focused is tree
        assert "Cannot import" not in str(screen.query_one("#import-report", Static).render())
        await pilot.press("down", "enter")  # the file: a dry run
        await wait_for(pilot, lambda: screen.picked is not None and not screen.busy)
        await settle(pilot)
        assert screen.picked == elsewhere / "not-here.md"


async def test_typing_in_the_picker_types_the_path(make_app, services, learner_home: Path) -> None:
    """QA: the hint says "type its path" while the focus is on the file tree, where typed text
    vanished (and enter folded the tree)."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("i")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ImportScreen)
        assert app.focused is screen.query_one("#import-tree")
        await pilot.press(*"linguistics.md")
        box = screen.query_one("#import-path", Input)
        assert (box.value, app.focused) == ("linguistics.md", box)
        await pilot.press("enter")  # relative to the folder shown: the preview
        await wait_for(pilot, lambda: not screen.busy)
        await settle(pilot)
        assert "Preview (dry run" in str(screen.query_one("#import-report", Static).render())

"""The import screen as a learner meets it: the file picker opens in the home directory and
the preview lists the questions, in the language the document writes them (Pilot, real db)."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual import events
from textual.widgets import Input, Static
from tuihelpers import screen_text, settle, wait_for

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


async def _open(pilot) -> ImportScreen:
    """The Import screen, opened from Home with `i`."""
    await settle(pilot)
    await pilot.press("i")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ImportScreen)
    return screen


async def test_picker_opens_in_the_home_directory(make_app, learner_home: Path) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(pilot)
        tree = screen.query_one("#import-tree")
        assert Path(tree.path) == learner_home
        await wait_for(pilot, lambda: len(tree.root.children) == 2)
        names = sorted(str(node.label) for node in tree.root.children)
        assert names == ["linguistics.md", "notes"]


async def test_preview_lists_questions_not_keys(make_app, services, learner_home: Path) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(pilot)
        report = await _run(pilot, screen, learner_home / "linguistics.md", "enter")  # dry run
        assert "Preview (dry run" in report
        assert "+ A1 Linguistic structure › 语言结构 (Linguistic structure)" in report
        assert "+ 什么是句法树？" in report
        assert "linguistics-notes:" not in report  # no card keys


async def test_a_chinese_question_in_the_preview_wraps_between_characters(
    make_app, services, learner_home: Path
) -> None:
    """The preview broke a Chinese question only at spaces: after "Transformer " the rest of
    the question (no space in it) started a new line, leaving the first one half empty."""
    question = "什么是 Transformer 里的多头注意力机制，它如何把查询、键和值投影到多个子空间？"
    path = learner_home / "mixed.md"
    path.write_text(OUTLINE.replace("什么是句法树？", question), encoding="utf-8")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(pilot)
        await _run(pilot, screen, path, "enter")
        lines = screen_text(app).splitlines()
        first = next(line for line in lines if "+ 什么是" in line)
        assert "Transformer 里的" in first, first


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
        report = str(screen.query_one("#import-report", Static).content)
        assert "Notes attached to deck exam-c" in report
        assert "✎ 基于能量的建模 → " in report
        assert "exam-c:c1." not in report


async def test_a_typed_folder_opens_in_the_picker(
    make_app, services, learner_home: Path, tmp_path: Path
) -> None:
    """The tree cannot climb above the home directory: typing a folder's path and enter shows
    that folder, and a file picked there previews as usual. The last file's "Cannot import"
    goes with it (QA: it stayed over the folder opened next)."""
    elsewhere = tmp_path / "elsewhere"
    bad = learner_home / "bad.md"
    bad.write_text("## early\n\ntext\n\n# B1 Chapter\n\n## Item\n\nbody\n", encoding="utf-8")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(pilot)
        screen.query_one("#import-path", Input).value = str(bad)
        screen.action_preview()
        await wait_for(pilot, lambda: not screen.busy)
        await settle(pilot)
        assert "Cannot import" in str(screen.query_one("#import-report", Static).content)
        await pilot.press("ctrl+l")
        screen.query_one("#import-path", Input).value = str(elsewhere)
        await pilot.press("enter")
        await settle(pilot)
        tree = screen.query_one("#import-tree")
        assert Path(tree.path) == elsewhere
        await wait_for(pilot, lambda: len(tree.root.children) == 1)
        assert [str(n.label) for n in tree.root.children] == ["not-here.md"]
        assert app.focused is tree
        assert "Cannot import" not in str(screen.query_one("#import-report", Static).content)
        await pilot.press("down", "enter")  # the file: a dry run
        await wait_for(pilot, lambda: screen.picked is not None and not screen.busy)
        await settle(pilot)
        assert screen.picked == elsewhere / "not-here.md"


async def test_typing_in_the_picker_types_the_path(make_app, services, learner_home: Path) -> None:
    """QA: the hint says "type its path" while the focus is on the file tree, where typed text
    vanished (and enter folded the tree)."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(pilot)
        assert app.focused is screen.query_one("#import-tree")
        await pilot.press(*"linguistics.md")
        box = screen.query_one("#import-path", Input)
        assert (box.value, app.focused) == ("linguistics.md", box)
        await pilot.press("enter")  # relative to the folder shown: the preview
        await wait_for(pilot, lambda: not screen.busy)
        await settle(pilot)
        assert "Preview (dry run" in str(screen.query_one("#import-report", Static).content)


def _report(screen: ImportScreen) -> str:
    return str(screen.query_one("#import-report", Static).content)


def _type_burst(app, text: str) -> None:
    """Post every key of ``text`` on the app at once, as a terminal delivers fast input (tmux
    send-keys -l): none is handled before the test next awaits."""
    from textual.keys import _character_to_key

    for char in text:
        event = events.Key(_character_to_key(char), char)
        event.set_sender(app)
        app.post_message(event)


async def test_a_path_typed_in_one_burst_lands_whole_in_the_box(
    make_app, services, learner_home: Path
) -> None:
    """QA (tmux, 80x24): `i`, then the whole path in one burst: the box showed one character
    (each key after the first replaced the box while the focus was still on its way from the
    file tree), or enter tried a path made of a few of them."""
    path = str(learner_home / "notes" / "interview-qa_genai.md")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(pilot)
        tree = screen.query_one("#import-tree")
        await wait_for(pilot, lambda: len(tree.root.children) == 2)
        assert app.focused is tree
        _type_burst(app, path)
        await settle(pilot)
        box = screen.query_one("#import-path", Input)
        assert (box.value, app.focused) == (path, box)
        _type_burst(app, "x")  # typed later: goes on at the end, the box keeps it
        await settle(pilot)
        assert box.value == path + "x"


async def test_a_path_and_enter_in_one_burst_preview_that_file(
    make_app, services, learner_home: Path
) -> None:
    """QA: enter sent with the burst tried a path made of some of its letters (`/root/oi.md`)."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(pilot)
        _type_burst(app, str(learner_home / "linguistics.md"))
        enter = events.Key("enter", "\r")
        enter.set_sender(app)
        app.post_message(enter)
        await wait_for(pilot, lambda: "Preview (dry run" in _report(screen))
        assert "linguistics.md (outline) into deck 'linguistics-notes'" in _report(screen)


def _deck_cards(store, deck: str) -> list[tuple[str, str]]:
    from sqlalchemy import text

    with store.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT c.key, c.answer FROM card c JOIN deck d ON d.id = c.deck_id"
                " WHERE d.key = :deck ORDER BY c.key"
            ),
            {"deck": deck},
        )
        return [tuple(row) for row in rows]


async def _run(pilot, screen: ImportScreen, path: Path, key: str) -> str:
    """Type ``path`` in the box and press ``key`` (f5 previews, ctrl+s imports)."""
    await pilot.press("ctrl+l")
    screen.query_one("#import-path", Input).value = str(path)
    await pilot.press(key)
    await wait_for(pilot, lambda: not screen.busy)
    await settle(pilot)
    return _report(screen)


async def test_a_csv_file_previews_and_imports_as_the_cli_does(
    make_app, services, learner_home: Path
) -> None:
    """QA: the screen said `unknown format: expected an exam outline …` for a CSV file that
    `labdeck import good.csv --dry-run` takes (`would import good.csv (csv) into deck
    'csv:good'`); both go through ``labdeck.ingest.sources`` now."""
    good = learner_home / "good.csv"
    good.write_text("Front,Back\nWhat is a token?,A unit of text\n", encoding="utf-8")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(pilot)
        tree = screen.query_one("#import-tree")
        await wait_for(pilot, lambda: len(tree.root.children) == 3)
        assert "good.csv" in [str(node.label) for node in tree.root.children]  # listed
        report = await _run(pilot, screen, good, "f5")
        assert f"would import {good} (csv) into deck 'csv:good'" in report, report
        assert "+ What is a token?" in report
        assert _deck_cards(services.store, "csv:good") == []  # a dry run
        report = await _run(pilot, screen, good, "ctrl+s")
        assert report.startswith("Imported") and f"imported {good} (csv)" in report
        assert [a for _k, a in _deck_cards(services.store, "csv:good")] == ["A unit of text"]


async def test_a_broken_csv_names_file_and_line_as_the_cli_does_and_writes_nothing(
    make_app, services, learner_home: Path, capsys
) -> None:
    from labdeck.cli import main

    bad = learner_home / "bad.csv"
    bad.write_text('Front,Back\nq1,a1\n"q2,a2\nq3,a3\n', encoding="utf-8")
    assert main(["--home", str(learner_home / "cli"), "import", str(bad), "--dry-run"]) == 1
    cli_error = capsys.readouterr().err.strip().removeprefix("labdeck: ")
    assert cli_error == f"{bad}:3: bad CSV: unexpected end of data"
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.push_screen(ImportScreen(root=learner_home))
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ImportScreen)
        for key in ("f5", "ctrl+s"):
            report = await _run(pilot, screen, bad, key)
            assert report == f"Cannot import\n{cli_error}", report
        assert _deck_cards(services.store, "csv:bad") == []


async def test_a_deck_folder_imports_and_a_reimport_says_which_edits_stay(
    make_app, services, learner_home: Path
) -> None:
    """A content deck folder typed in the box previews (enter) and imports, as `labdeck
    import FOLDER`; re-imported after its upstream text changed a card the learner edited,
    the report says the edit was kept (QA: `0 new, 1 updated, …` and nothing more)."""
    deck = learner_home / "mini"
    deck.mkdir()
    (deck / "deck.toml").write_text('key = "mini"\nname = "Mini deck"\n', encoding="utf-8")
    card = '[[cards]]\nid = "m1.1"\nprompt = "Why?"\nanswer = "{}"\nkey_points = ["k"]\n'
    chapter = '[chapter]\ncode = "M1"\ntitle = "Minimal"\n\n' + card
    (deck / "M01.toml").write_text(chapter.format("Because."), encoding="utf-8")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.push_screen(ImportScreen(root=learner_home))
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ImportScreen)
        report = await _run(pilot, screen, deck, "enter")
        assert f"would import {deck} (content) into deck 'mini'" in report, report
        assert Path(screen.query_one("#import-tree").path) == learner_home  # not opened
        await _run(pilot, screen, deck, "ctrl+s")
        assert services.scheduler().edit("mini:m1.1", "Why?", "My reason.", ["k"])
        (deck / "M01.toml").write_text(chapter.format("Upstream reason."), encoding="utf-8")
        report = await _run(pilot, screen, deck, "ctrl+s")
        assert "0 new, 1 updated, 0 unchanged" in report
        assert "1 updated card keeps your edit (mini:m1.1): Browse is:edited" in report
        assert _deck_cards(services.store, "mini") == [("mini:m1.1", "My reason.")]


async def test_a_typed_folder_puts_the_cursor_on_its_first_file(
    make_app, services, learner_home: Path, tmp_path: Path
) -> None:
    """QA: after a typed folder opened, the cursor stayed on the folder itself, so enter
    folded it instead of picking the file under it; a folder with nothing to import looked
    like a blank picker."""
    folder = tmp_path / "drop"
    folder.mkdir()
    (folder / "notes.md").write_text("# My notes\n\n## What is attention?\n\nWeights.\n")
    (tmp_path / "nothing").mkdir()
    (tmp_path / "nothing" / ".hidden").mkdir()
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(pilot)
        tree = screen.query_one("#import-tree")
        await wait_for(pilot, lambda: tree.cursor_node is not None and tree.cursor_node.parent)
        assert str(tree.cursor_node.label) == "linguistics.md" or tree.cursor_node.allow_expand
        await pilot.press("ctrl+l")
        screen.query_one("#import-path", Input).value = str(folder)
        await pilot.press("enter")
        tree = screen.query_one("#import-tree")
        await wait_for(pilot, lambda: tree.cursor_node is not None and tree.cursor_node.parent)
        await pilot.press("enter")  # the file under the cursor: its preview
        await wait_for(pilot, lambda: screen.picked is not None and not screen.busy)
        assert screen.picked == folder / "notes.md"
        await pilot.press("ctrl+l")
        screen.query_one("#import-path", Input).value = str(tmp_path / "nothing")
        await pilot.press("enter")
        status = screen.query_one("#import-status", Static)  # (wraps with a long tmp path)
        await wait_for(pilot, lambda: "holds no document" in str(status.content))


async def test_ctrl_l_selects_the_path_so_typing_replaces_it(
    make_app, services, learner_home: Path
) -> None:
    """QA: after a file was previewed, ctrl+l then a new path typed it in front of the old one
    ("/tmp/qa2/empty/tmp/qa2/docs/notes.md")."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(pilot)
        box = screen.query_one("#import-path", Input)
        box.value = str(learner_home / "linguistics.md")
        screen.action_preview()
        await wait_for(pilot, lambda: not screen.busy)
        await pilot.press("ctrl+l")
        await pilot.press(*"/tmp")
        await settle(pilot)
        assert box.value == "/tmp"

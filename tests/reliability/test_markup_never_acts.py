"""Imported text never acts in the TUI (issue 12, item 1).

A document full of Rich/Textual markup, action links and terminal escape sequences is imported
with the real CLI (``labdeck import --standalone``) into a temporary home; then Pilot walks every
screen. On each one the composited screen (what the terminal would show) must contain the text
literally, carry no hyperlink and no click action made from the data, and the terminal output
must hold no OSC 8 / OSC 52 sequence. Clicking the text must not quit the app or write a
screenshot. Before the fix, the first screen showing ``[/]`` raised MarkupError on every repaint.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import Input

from labdeck.config import Settings

TUI_TESTS = str(Path(__file__).resolve().parents[1] / "tui")
if TUI_TESTS not in sys.path:
    sys.path.insert(0, TUI_TESTS)
from tuihelpers import NOW, freeze, screen_text, settle, wait_for  # noqa: E402

ESC = "\x1b"
QUIT = "[@click=app.quit]Quit[/]"
LINK = "[link=https://e.vil/x]Z[/link]"  # Rich markup: an OSC 8 link in a DataTable cell
LINK_Q = "[link='https://e.vil/q']Q[/link]"  # Textual content markup: a link in a Static
BOLD = "[bold red]x[/]"
OSC8 = f"{ESC}]8;;https://e.vil/o{ESC}\\osc8{ESC}]8;;{ESC}\\"  # shown as "osc8" once stripped
OSC52 = f"{ESC}]52;c;ZXZpbA==\x07"  # clipboard write: nothing of it survives
SGR = f"{ESC}[31mred{ESC}[0m"  # shown as "red"
SIZE = (160, 48)
DECK_TITLE = f"Deck [/] {QUIT} {LINK}"
# file and folder names cannot hold "/": unclosed tags instead
ZAP_HEAD = "[@click=app.screenshot('p.svg',"  # a long path may be cut off after this
FILE_QUIT = "[@click=app.quit]Quit[b]"
FILE_ZAP = "[@click=app.screenshot('p.svg')]Zap[i]"
BAD_FILE = f"bad {FILE_ZAP}{OSC52}{ESC}[31m.md"  # escape sequences in a file name


def zap(target: Path) -> str:
    """A click action that would write ``p.svg`` into ``target`` (outside LABDECK_HOME)."""
    return f"[@click=app.screenshot('p.svg','{target}')]Zap[/]"


def document(target: Path) -> str:
    return f"""---
title: "{DECK_TITLE} {SGR}"
---

# A1 Chapter {BOLD} {OSC8}

Description [/] {LINK_Q}.

## Closing [/] tag question

Notes {QUIT} and {LINK} and {BOLD}.
Escapes {OSC8} {OSC52} {SGR}. A Markdown link [Zmd](https://e.vil/md) and <https://e.vil/a>.

## {QUIT}

The quit notes [/] {LINK_Q}.

## {zap(target)}

Zap notes {BOLD}.

# A2 {QUIT} chapter

## {LINK}

Link notes {QUIT}.
"""


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def grader():
    """The real default grader (multilingual USE)."""
    from labdeck.grading.embedder import load_embedder
    from labdeck.grading.grader import Grader

    return Grader(load_embedder("use", None, threads=1))


@pytest.fixture
def evil(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """A home (its name has markup too) with the document imported by the real CLI."""
    from labdeck.cli import main

    home = tmp_path / "home [b]h [@click=app.quit]q"
    target = tmp_path / "zap"
    docs = tmp_path / "docs"
    for folder in (home, target, docs):
        folder.mkdir()
    monkeypatch.setenv("LABDECK_HOME", str(home))
    monkeypatch.setenv("LABDECK_NO_CONTENT", "1")  # just this deck: every screen shows it
    monkeypatch.delenv("NO_COLOR", raising=False)
    doc = docs / f"{FILE_QUIT} notes.md"
    doc.write_text(document(target), encoding="utf-8")
    assert main(["import", "--standalone", str(doc)]) == 0
    # a second document that fails to parse: its error names the file and the heading
    (docs / BAD_FILE).write_text(
        f"---\ntitle: t\n---\n\n## {QUIT}\n\ntext\n\n# A1 ok\n\n## fine\n\ntext\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("HOME", str(docs))  # the import screen opens here, listing these names
    return {"home": home, "target": target, "docs": docs, "doc": doc}


@pytest.fixture
def app(evil: dict[str, Path], grader) -> Iterator[object]:
    from labdeck.store import open_store
    from labdeck.tui.app import LabdeckApp
    from labdeck.tui.services import Services

    store = open_store(evil["home"])
    services = Services(
        store=store,
        home=evil["home"],
        settings=Settings(),
        now=lambda: NOW,
        grader_factory=lambda _settings: grader,
    )
    services.load_grader()
    yield LabdeckApp(services, load_grader=False)
    store.close()


# ---------------------------------------------------------------- what is on screen


def screen_lines(app) -> list[str]:
    """The composited screen, one string per terminal row (toasts and overlays included)."""
    return [strip.text for strip in app.screen._compositor.render_strips()]


def terminal_output(app) -> str:
    """What the app would write to the terminal for a full repaint."""
    update = app.screen._compositor.render_update(full=True)
    return update.render_segments(app.console)


def check_screen(app, *needles: str) -> str:
    """Every needle is on screen literally; nothing on screen links or acts; returns the text."""
    text = "\n".join(screen_lines(app))
    for needle in needles:
        where = type(app.screen).__name__
        assert needle in text, f"{needle!r} not shown literally on {where}:\n{text}"
    for strip in app.screen._compositor.render_strips():
        for segment in strip:
            style = segment.style
            if style is None:
                continue
            assert not style.link, f"hyperlink {style.link!r} on {segment.text!r}"
            action = (style.meta or {}).get("@click", "")
            assert not any(word in str(action) for word in ("quit", "screenshot", "link(")), (
                f"click action {action!r} on {segment.text!r}"
            )
    output = terminal_output(app)
    for sequence in (f"{ESC}]8;", f"{ESC}]52;", "\x9b", "\x9d"):
        assert sequence not in output, f"{sequence!r} reached the terminal"
    assert all(not n.markup for n in app._notifications), "a notification was read as markup"
    return text


async def click_text(pilot, needle: str, evil: dict[str, Path]) -> bool:
    """Click the middle of ``needle`` where it is shown; the app must not act on it."""
    app = pilot.app
    for y, line in enumerate(screen_lines(app)):
        x = line.find(needle)
        if x >= 0:
            await pilot.click(offset=(x + len(needle) // 2, y))
            await settle(pilot)
            assert app.return_code is None, f"clicking {needle!r} ended the app"
            assert not list(evil["target"].iterdir()), f"clicking {needle!r} wrote a file"
            return True
    return False


async def click_all(pilot, evil: dict[str, Path], *needles: str) -> None:
    """Click each needle that is on screen; at least one of them must be."""
    clicked = [await click_text(pilot, needle, evil) for needle in needles]
    assert any(clicked), f"none of {needles!r} on {type(pilot.app.screen).__name__}"


async def back_home(pilot) -> None:
    from labdeck.tui.screens.home import HomeScreen

    while not isinstance(pilot.app.screen, HomeScreen):
        pilot.app.pop_screen()
        await settle(pilot)


# ---------------------------------------------------------------- the walk


async def test_imported_markup_is_shown_literally_and_never_acts(app, evil) -> None:
    from labdeck.tui.screens.browse import BrowseScreen
    from labdeck.tui.screens.demos import DemosScreen
    from labdeck.tui.screens.exam import ExamReportScreen, ExamScreen, ExamSetupScreen
    from labdeck.tui.screens.home import HomeScreen, Scope
    from labdeck.tui.screens.importer import ImportScreen
    from labdeck.tui.screens.review import ReviewScreen

    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        home = app.screen
        assert isinstance(home, HomeScreen)
        # ---- home: deck and chapter names in the tree
        await pilot.press("down", "space")  # the deck node, expanded
        await settle(pilot)
        check_screen(app, f"Deck [/] {QUIT}", f"Chapter {BOLD} osc8", f"{QUIT} chapter")
        await click_all(pilot, evil, QUIT, BOLD)
        deck_key = home.selected_scope().deck or ""
        assert deck_key

        # ---- review: prompt, typed answer, grading, feedback panel, reference and notes
        await back_home(pilot)  # a click on the tree may have opened a review
        app.action_study(Scope(deck_key))
        await settle(pilot)
        review = app.screen
        assert isinstance(review, ReviewScreen)
        await wait_for(pilot, lambda: review.phase == "answering")
        check_screen(app, "Closing [/] tag question")
        await pilot.click("#answer")
        await pilot.press(*f"{QUIT} and {LINK}")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: review.phase == "rating", timeout=60)
        await settle(pilot)
        text = check_screen(app, f"Notes {QUIT} and {LINK} and {BOLD}.", "Escapes osc8 red.")
        assert "[Zmd](https://e.vil/md)" in text  # a Markdown link stays text
        assert review.result is not None and review.result.key_points
        await click_all(pilot, evil, QUIT, LINK, "[Zmd]")
        await pilot.press("enter")  # accept the suggested quality
        await wait_for(pilot, lambda: review.phase == "answering" and review.card is not None)
        await settle(pilot)
        # a bare-term heading's prompt carries its chapter (labdeck.ingest.prompts), literally
        assert review.card.prompt == f"A1 Chapter {BOLD} osc8 › {QUIT}"
        check_screen(app, QUIT)
        await click_all(pilot, evil, QUIT)
        await pilot.press("escape", "escape")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)

        # ---- browse: the table, search for the text, clicks on every cell, the scope list
        await pilot.press("b")
        await settle(pilot)
        browse = app.screen
        assert isinstance(browse, BrowseScreen)
        check_screen(app, "Closing [/] tag question", QUIT, LINK)
        await pilot.press("slash", *"question")
        await settle(pilot)
        assert [r.prompt for r in browse.shown] == [
            f"A1 Chapter {BOLD} osc8 › Closing [/] tag question"
        ]
        check_screen(app, "Closing [/] tag question", f"Notes {QUIT} and {LINK}")
        search = browse.query_one("#browse-search", Input)
        search.value = ""
        await pilot.press(*"[/]")  # typed markup in the search box is text too
        await settle(pilot)
        check_screen(app, "[/]")
        search.value = ""
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        for needle in (QUIT, LINK, ZAP_HEAD, "Closing [/]"):
            await click_all(pilot, evil, needle)
            check_screen(app, needle)
        browse.query_one("#browse-scope").focus()
        await pilot.press("enter")  # open the deck / chapter list
        await settle(pilot)
        check_screen(app, f"Deck [/] {QUIT}", f"A1 Chapter {BOLD}")
        await click_all(pilot, evil, QUIT)
        await pilot.press("escape")
        await back_home(pilot)

        # ---- statistics
        await pilot.press("t")
        await settle(pilot)
        await pilot.press("end")  # the mastery chart (chapter names) is the last one
        await settle(pilot)
        check_screen(app, "Mastery per chapter")
        await pilot.press("escape")
        await settle(pilot)

        # ---- mock exam: compose, sit, submit, report
        app.action_exam()
        await settle(pilot)
        setup = app.screen
        assert isinstance(setup, ExamSetupScreen)
        check_screen(app, f"Chapter {BOLD} osc8", f"{QUIT} chapter")
        setup.query_one("#setup-n", Input).value = "4"
        setup.query_one("#setup-per", Input).value = "0"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, ExamScreen))
        await settle(pilot)
        sitting = app.screen
        for _ in range(4):
            prompt = sitting.session.current.prompt
            check_screen(app, prompt[:60])
            await click_all(pilot, evil, prompt[:24])
            sitting.query_one("#exam-answer").focus()
            await pilot.press(*f"answer {QUIT} {LINK_Q}")
            await pilot.press("ctrl+n")
            await settle(pilot)
        await pilot.press("ctrl+t")
        await settle(pilot)
        await pilot.press("y")
        await wait_for(pilot, lambda: isinstance(app.screen, ExamReportScreen), timeout=60)
        report = app.screen
        await wait_for(pilot, lambda: report.report is not None and not report.busy, timeout=60)
        await settle(pilot)
        check_screen(app, f"answer {QUIT} {LINK_Q}", f"Chapter {BOLD} osc8")
        for row in range(4):
            report.query_one("#report-questions").move_cursor(row=row)
            await settle(pilot)
            question = report.report.questions[row]
            heading = question.prompt.split(" › ")[-1]  # after the chapter context, which wraps
            check_screen(app, heading.split("\n")[0][:40])
            await click_all(pilot, evil, QUIT, LINK, ZAP_HEAD, LINK_Q)
        await pilot.press("escape")
        await settle(pilot)

        # ---- demos: a real run whose parameter (and so its output labels) is markup
        app.action_demos("attention", f"{deck_key}:{QUIT}")
        await settle(pilot)
        demos = app.screen
        assert isinstance(demos, DemosScreen)
        check_screen(app, f"from card {deck_key}:{QUIT}")
        sentence = f"{QUIT} {LINK} [/] is here"
        demos.query_one("#param-sentence", Input).value = sentence
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: demos.run_count >= 1)  # started (a warm run is quick)
        await wait_for(pilot, lambda: not demos.running, timeout=120)
        await settle(pilot)
        check_screen(app, "[@click=app.quit]quit[/]", "[link=https://e.vil/x]z[/link]")
        await click_all(pilot, evil, "quit[/]", "z[/link]")
        await wait_for(pilot, lambda: bool(demos._runs))  # the runs table has it (a worker)
        demos.query_one("#demo-runs").focus()
        await pilot.press("enter")  # the finished run, with its parameters
        await wait_for(pilot, lambda: "params: sentence=" in screen_text(app))
        check_screen(app, f"sentence={sentence}")
        await click_all(pilot, evil, QUIT, LINK)
        await pilot.press("escape", "escape")
        await settle(pilot)

        # ---- import: file names in the tree, a preview, an error naming file and heading
        app.action_import_file()
        await settle(pilot)
        importer = app.screen
        assert isinstance(importer, ImportScreen)
        check_screen(app, f"{FILE_QUIT} notes.md", f"bad {FILE_ZAP}.md")
        await click_all(pilot, evil, FILE_QUIT, FILE_ZAP)
        await wait_for(pilot, lambda: not importer.busy)
        importer.query_one("#import-path", Input).value = str(evil["doc"])
        importer.action_preview()
        await wait_for(pilot, lambda: not importer.busy)
        await settle(pilot)
        check_screen(app, f"{FILE_QUIT} notes.md")
        tree = importer.query_one("#import-tree")
        tree.focus()
        tree.move_cursor_to_line(0)
        await pilot.press("down", "down", "enter")  # the bad file, picked in the tree
        await wait_for(pilot, lambda: importer.picked is not None and not importer.busy)
        await settle(pilot)
        assert importer.picked.name == BAD_FILE
        # named in the path box, the report and the error toast, escape sequences stripped
        check_screen(app, f"bad {FILE_ZAP}.md", QUIT, "comes before any chapter")
        await click_all(pilot, evil, FILE_ZAP, QUIT)
        await pilot.press("escape")
        await settle(pilot)

        # ---- settings: the saved-to message names the home folder (markup in its name)
        app.action_settings()
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.resize_terminal(SIZE[0], 80)  # the whole form, its message at the end
        await settle(pilot)
        check_screen(app, "home [b]h [@click=app.quit]q")
        await click_all(pilot, evil, "[@click=app.quit]q")
        await pilot.resize_terminal(*SIZE)
        await pilot.press("escape")
        await settle(pilot)

        # ---- help and the command palette, searched for the text
        await pilot.press("question_mark")
        await settle(pilot)
        check_screen(app, "Help — keys, grading, SM-2", "Everywhere")  # its first lines
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("ctrl+p")
        await settle(pilot)
        freeze(app)
        await pilot.press(*QUIT)
        await settle(pilot)
        check_screen(app, QUIT)
        await pilot.press("escape")
        await settle(pilot)

        assert isinstance(app.screen, HomeScreen)
        assert app.return_code is None
    assert not list(evil["target"].iterdir())
    assert not (evil["docs"] / "p.svg").exists()
    assert not (evil["home"] / "errors.log").exists()

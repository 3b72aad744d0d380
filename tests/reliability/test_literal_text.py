"""The helpers that keep stored text literal on screen, one by one (issue 12, item 1)."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.text import Text
from textual.app import App, ComposeResult
from textual.screen import Screen
from textual.widgets import DataTable

from labdeck.tui.literal import literal, markdown_parser, plain
from labdeck.tui.widgets.literal import CardMarkdown, LiteralTable

ESC = "\x1b"
QUIT = "[@click=app.quit]Quit[/]"


def screen_text(app: App) -> str:
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def actions_on_screen(app: App) -> list[str]:
    """Click actions and hyperlinks carried by anything on screen."""
    found = []
    for strip in app.screen._compositor.render_strips():
        for segment in strip:
            if segment.style is not None:
                if segment.style.link:
                    found.append(segment.style.link)
                if (segment.style.meta or {}).get("@click"):
                    found.append(segment.style.meta["@click"])
    return found


def test_plain_strips_escape_sequences_and_control_characters() -> None:
    raw = (
        f"a{ESC}]8;;https://e.vil/x{ESC}\\b{ESC}]8;;{ESC}\\ {ESC}]52;c;ZXZpbA==\x07"
        f"{ESC}[31mred{ESC}[0m \x9b31mc1 {ESC}P1$r{ESC}\\dcs\x07\x00"
    )
    assert plain(raw) == "ab red c1 dcs"
    assert plain(None) == ""
    assert plain(42) == "42"


def test_literal_keeps_markup_as_text() -> None:
    text = literal(f"Closing [/] {QUIT} [link=https://e.vil/x]Z[/link]", style="bold")
    assert text.plain == f"Closing [/] {QUIT} [link=https://e.vil/x]Z[/link]"
    assert [span.style for span in text.spans] == []
    assert text.style == "bold"
    built = Text("kept")
    assert literal(built) is built


def test_markdown_parser_makes_nothing_clickable_and_drops_nothing() -> None:
    source = (
        "see [Z](https://e.vil/x), <https://e.vil/a>, https://e.vil/b and ![i](https://e.vil/i)"
        " <b>x</b>\n\n<div>\nhidden?\n</div>\n\n[r]: https://e.vil/r\n"
    )
    tokens = markdown_parser().parse(source)
    kinds = {t.type for t in tokens} | {c.type for t in tokens for c in t.children or []}
    assert not kinds & {"link_open", "image", "html_block", "html_inline"}
    inline = " ".join(t.content for t in tokens if t.type == "inline")
    for piece in ("[Z](https://e.vil/x)", "<b>x</b>", "hidden?", "[r]: https://e.vil/r"):
        assert piece in inline


def test_demo_output_cleaner_drops_8_bit_and_device_control_sequences() -> None:
    from labdeck.demos import render

    assert render.clean(f"x\x9b31my {ESC}P1$r{ESC}\\z\r!") == "xy z!"


class Widgets(App):
    def compose(self) -> ComposeResult:
        yield LiteralTable(id="table")
        yield CardMarkdown(
            f"# {QUIT}\n\nsee [Z](https://e.vil/x) and https://e.vil/b {ESC}]52;c;eA==\x07ok",
            id="md",
        )

    def on_mount(self) -> None:
        table = self.query_one(LiteralTable)
        table.add_column("[/]", key="a")
        table.add_columns("[b]col")
        table.add_row(QUIT, "[link=https://e.vil/x]Z[/link]", key="r")
        table.add_row("[bold red]x[/]", "plain")


async def test_literal_table_and_card_markdown_render_markup_as_text() -> None:
    app = Widgets()
    async with app.run_test(size=(100, 20)) as pilot:
        await pilot.pause()
        app.query_one(LiteralTable).update_cell("r", "a", "[/] updated")
        await pilot.pause()
        text = screen_text(app)
        for piece in (
            "[/]",
            "[b]col",
            "[/] updated",
            "[link=https://e.vil/x]Z[/link]",
            "[bold red]x[/]",
            QUIT,
            "[Z](https://e.vil/x)",
            "https://e.vil/b ok",
        ):
            assert piece in text, piece
        assert actions_on_screen(app) == []
        markdown = app.query_one(CardMarkdown)
        await markdown.update(f"again {QUIT} {ESC}[31mred")
        await pilot.pause()
        assert f"again {QUIT} red" in screen_text(app)


class BrokenScreen(Screen):
    """A render path that still parses data as markup (the bug): it fails on every repaint."""

    def compose(self) -> ComposeResult:
        yield DataTable()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("prompt")
        table.add_row("Closing [/] tag question")


async def test_an_error_on_every_repaint_is_logged_once(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Outside tests a failing handler becomes a notification and an errors.log entry; a
    failure that repeats on every repaint must not flood the log (it grew ~3 MB/min)."""
    from labdeck.store import open_store
    from labdeck.tui.app import LabdeckApp
    from labdeck.tui.services import Services

    store = open_store(home)
    app = LabdeckApp(Services(store=store, home=home), load_grader=False)
    monkeypatch.delenv("PYTEST_CURRENT_TEST")  # the app's real (non-test) error handling
    async with app.run_test(size=(80, 20), notifications=True) as pilot:
        await pilot.pause()
        app.push_screen(BrokenScreen())
        for _ in range(20):
            await pilot.pause(0.02)
        assert app.return_code is None  # still running
        messages = [n.message for n in app._notifications]
    store.close()
    log = (home / "errors.log").read_text(encoding="utf-8")
    assert log.count("Traceback") == 1
    assert "MarkupError" in log
    assert messages == ["MarkupError: closing tag '[/]' at position 8 has nothing to close"]

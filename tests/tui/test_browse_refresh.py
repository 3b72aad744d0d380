"""F5 in Browse reads the cards again: an import made in another terminal while Browse is
open shows without leaving the screen, the cursor kept on its card."""

from __future__ import annotations

from pathlib import Path

from tuihelpers import settle, wait_for

from labdeck.ingest.load import detect_and_parse, import_document
from labdeck.store import open_store
from labdeck.tui.screens.browse import BrowseScreen

QA = """# Refresh probe questions

1. What does the F5 probe card ask about refreshing?
- Answer:
    - Whether Browse reads the cards again after an import in another terminal.

2. Why would a second probe card be imported?
- Answer:
    - So that the count of cards visibly changes.
"""


async def test_f5_shows_an_import_made_in_another_terminal(make_app, services, tmp_path: Path):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: "store" in app.screen.counts_sources)
        await pilot.press("b")
        screen = app.screen
        assert isinstance(screen, BrowseScreen)
        await wait_for(pilot, lambda: screen.page is not None and bool(screen.shown))
        before = screen.page.total
        await pilot.press("down", "down")
        await settle(pilot)
        kept = screen._current()
        # `labdeck import` in another terminal: its own connection to the same file
        doc = tmp_path / "probe.md"
        doc.write_text(QA, encoding="utf-8")
        other = open_store(Path(services.store.path).parent)
        report = import_document(other, detect_and_parse(doc), link=False)
        other.close()
        assert len(report.created) == 2, report.summary()
        await pilot.press("f5")
        await wait_for(pilot, lambda: screen.page is not None and screen.page.total == before + 2)
        await settle(pilot)
        assert screen._current().id == kept.id
        count = str(screen.query_one("#browse-count").render())
        assert f"of {before + 2} cards" in count

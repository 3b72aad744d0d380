"""Home says what is happening while it waits: the first run's shipped-deck load (progress in
the deck tree's place) and the grading model (the status changes when loading ends)."""

from __future__ import annotations

import threading

from textual.widgets import Static, Tree
from tuihelpers import wait_for

from labdeck.config import Settings
from labdeck.tui.app import LabdeckApp
from labdeck.tui.screens.home import HomeScreen
from labdeck.tui.services import Services


async def test_first_run_shows_the_shipped_deck_loading_then_the_tree(tmp_path, monkeypatch):
    monkeypatch.setenv("LABDECK_HOME", str(tmp_path))
    monkeypatch.delenv("LABDECK_NO_CONTENT", raising=False)
    services = Services(home=tmp_path, settings=Settings())  # a fresh home: nothing synced
    app = LabdeckApp(services, load_grader=False)
    async with app.run_test(size=(100, 32)) as pilot:
        home = app.screen
        assert isinstance(home, HomeScreen)
        first = str(home.query_one("#decks", Tree).root.label)
        assert first in ("Opening your decks…", *home.progress_shown)
        await wait_for(
            pilot,
            lambda: "All decks" in str(home.query_one("#decks", Tree).root.label),
            timeout=120,
        )
        shown = home.progress_shown
        assert shown[0] == "Opening the database…"
        loads = [m for m in shown if m.startswith("Loading the shipped deck: deck ")]
        assert len(loads) >= 3 and loads[0].endswith(f"(1/{len(loads)})…"), shown
        assert [c.data.deck for c in home.query_one("#decks", Tree).root.children] == [
            "exam-b",
            "exam-c",
            "interview",
        ]
    services.close()


async def test_grader_status_changes_when_the_model_has_loaded(make_services, grader):
    release = threading.Event()

    def slow_factory(_settings):
        release.wait(60)
        return grader

    services = make_services()
    services.reset_grader()
    services.grader_factory = slow_factory
    app = LabdeckApp(services)  # loads the model itself, as the real app does
    async with app.run_test(size=(100, 32)) as pilot:
        status = app.screen.query_one("#grader-status", Static)
        await wait_for(pilot, lambda: str(status.render()) == "loading grading model…")
        await pilot.pause(0.3)
        assert str(status.render()) == "loading grading model…"  # still loading: it says so
        release.set()
        await wait_for(pilot, lambda: str(status.render()) == "grading model ready")
        assert isinstance(app.screen, HomeScreen)  # without leaving Home


async def test_a_model_that_fails_to_load_is_said_plainly(make_services):
    def broken(_settings):
        raise OSError("[bold]no such model[/bold]")

    services = make_services()
    services.reset_grader()
    services.grader_factory = broken
    app = LabdeckApp(services)
    async with app.run_test(size=(100, 32)) as pilot:
        status = app.screen.query_one("#grader-status", Static)
        await wait_for(pilot, lambda: "unavailable" in str(status.render()))
        assert "[bold]no such model[/bold]" in str(status.render())  # literal, not markup

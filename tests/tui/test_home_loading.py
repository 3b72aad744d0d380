"""Home says what is happening while it waits: the first run's shipped-deck load (progress in
the deck tree's place) and the grading model (the status changes when loading ends)."""

from __future__ import annotations

import threading

from rich.cells import cell_len
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
        loads = [m for m in shown if m.startswith("Loading the shipped deck ")]
        assert len(loads) >= 3 and loads[0].endswith(f" 1/{len(loads)}: exam-b…"), shown
        assert [c.data.deck for c in home.query_one("#decks", Tree).root.children] == [
            "exam-b",
            "exam-c",
            "interview",
        ]
    services.close()


async def test_the_first_runs_progress_fits_the_tree_at_80x24(tmp_path, monkeypatch):
    """Each line ("Loading the shipped deck 3/3: interview…") is whole in the 80-column tree,
    where "Loading the shipped deck: deck exam-b (1/3" was cut mid-word; a longer one is cut
    with an ellipsis, never silently."""
    monkeypatch.setenv("LABDECK_HOME", str(tmp_path))
    monkeypatch.delenv("LABDECK_NO_CONTENT", raising=False)
    services = Services(home=tmp_path, settings=Settings())
    app = LabdeckApp(services, load_grader=False)
    labels: list[str] = []
    async with app.run_test(size=(80, 24)) as pilot:
        home = app.screen
        assert isinstance(home, HomeScreen)
        tree = home.query_one("#decks", Tree)

        def loaded() -> bool:
            label = str(tree.root.label)
            if not labels or labels[-1] != label:
                labels.append(label)
            return "All decks" in label

        await wait_for(pilot, loaded, timeout=120)
        room = tree.scrollable_content_region.width - 2  # (the root's "▶ ")
        shown = [label for label in labels if label.startswith("Loading the shipped deck")]
        assert shown, labels
        assert all(cell_len(label) <= room and not label.endswith("……") for label in shown)
        assert set(shown) <= set(home.progress_shown), (shown, home.progress_shown)  # whole
        home._counts_shown = False  # (as before the counts) a longer line is cut, with "…"
        home._show_progress("Loading the shipped deck 1/1: " + "a-very-long-deck-name" * 3)
        cut = str(tree.root.label)
        assert cut.endswith("…") and cell_len(cut) <= room
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

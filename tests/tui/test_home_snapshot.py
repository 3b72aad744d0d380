"""Home's first frame shows the last session's counts when they still hold (``home_view``): the
snapshot written when a session ends is used only for the same database, settings and study
day, and the counts read from the store replace it in any case."""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import timedelta

from textual.widgets import Tree
from tuihelpers import NOW, settle, wait_for

from labdeck.clock import study_day
from labdeck.config import Settings
from labdeck.tui import home_view
from labdeck.tui.app import LabdeckApp, close_services
from labdeck.tui.screens.home import HomeScreen
from labdeck.tui.services import Services


def _labels(home: HomeScreen) -> list[str]:
    root = home.query_one("#decks", Tree).root
    return [str(root.label), *(str(n.label) for n in root.children)]


async def _session(home_path, settings: Settings | None = None):
    """Run the app as `labdeck` does (the store opened by Home's worker, closed at the end):
    (the counts' sources in order, the tree as first shown, the tree from the store)."""
    services = Services(home=home_path, settings=settings or Settings(), now=lambda: NOW)
    app = LabdeckApp(services, load_grader=False)
    async with app.run_test(size=(100, 32)) as pilot:
        home = app.screen
        assert isinstance(home, HomeScreen)
        first = _labels(home)
        await wait_for(pilot, lambda: "store" in home.counts_sources, timeout=60)
        await settle(pilot)  # Home's other workers done too: the session ends with a free store
        sources, from_store = list(home.counts_sources), _labels(home)
    close_services(services)
    return sources, first, from_store


def _opening(labels: list[str]) -> bool:
    """The tree says the decks are being opened (no counts in it)."""
    return len(labels) == 1 and labels[0] in ("Opening your decks…", "Opening the database…")


def _fresh_home(tmp_path, monkeypatch, template_db):
    monkeypatch.setenv("LABDECK_HOME", str(tmp_path))
    shutil.copy(template_db / "labdeck.db", tmp_path / "labdeck.db")
    return tmp_path


async def test_the_next_start_shows_the_last_sessions_counts_in_its_first_frame(
    tmp_path, monkeypatch, template_db
):
    home = _fresh_home(tmp_path, monkeypatch, template_db)
    sources, first, counted = await _session(home)
    assert sources[0] == "store"  # no snapshot yet: the counts came from the store
    assert _opening(first)
    assert (home / home_view.FILE).exists()

    sources, first, counted_again = await _session(home)
    assert sources[0] == "snapshot" and "store" in sources  # shown at once, then confirmed
    assert first == counted == counted_again  # the first frame had the true counts
    assert "All decks" in first[0] and len(first) == 4  # the total and the three decks


async def test_a_database_written_since_is_not_trusted(tmp_path, monkeypatch, template_db):
    home = _fresh_home(tmp_path, monkeypatch, template_db)
    await _session(home)
    from labdeck.workspace import Workspace  # another labdeck (the CLI) answers a card

    workspace = Workspace(home, now=lambda: NOW)
    scheduler = workspace.scheduler()
    entry = scheduler.next_card()
    assert entry is not None
    scheduler.answer(entry.card_id, 4)
    workspace.close()
    day = study_day(NOW, Settings().rollover_hour)
    assert home_view.load(home, Settings(), day) is None

    sources, first, counted = await _session(home)
    assert sources[0] == "store"
    assert _opening(first)


async def test_another_day_other_settings_or_a_damaged_file_are_not_used(
    tmp_path, monkeypatch, template_db
):
    home = _fresh_home(tmp_path, monkeypatch, template_db)
    await _session(home)
    settings = Settings()
    day = study_day(NOW, settings.rollover_hour)
    view = home_view.load(home, settings, day)
    assert view is not None and view.day == day and sum(view.total) > 0
    assert home_view.load(home, settings, day + timedelta(days=1)) is None
    assert home_view.load(home, replace(settings, new_per_day=3), day) is None

    (home / home_view.FILE).write_text('{"version": 1, "db": [', encoding="utf-8")
    assert home_view.load(home, settings, day) is None
    sources, first, _counted = await _session(home)  # no traceback: read from the store
    assert sources[0] == "store" and _opening(first)


async def test_the_snapshots_labels_are_cut_to_the_tree_at_80_columns(
    tmp_path, monkeypatch, template_db
):
    """The snapshot is shown from on_mount, before the tree has a width: its labels are cut
    once it has one, before the store's counts replace them."""
    home_path = _fresh_home(tmp_path, monkeypatch, template_db)
    await _session(home_path)  # writes the snapshot
    services = Services(home=home_path, settings=Settings(), now=lambda: NOW)
    app = LabdeckApp(services, load_grader=False)
    async with app.run_test(size=(80, 24)) as pilot:
        home = app.screen
        assert isinstance(home, HomeScreen) and home.counts_sources == ["snapshot"]
        tree = home.query_one("#decks", Tree)
        await wait_for(pilot, lambda: any(label.endswith("…") for label in _labels(home)))
        assert home.counts_sources == ["snapshot"]  # (still the snapshot's labels)
        assert tree.virtual_size.width <= tree.scrollable_content_region.width
    close_services(services)

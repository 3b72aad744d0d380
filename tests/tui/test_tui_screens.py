"""Pilot tests of the other screens: demos (run and cancel), import, settings, browse, stats."""

from __future__ import annotations

import os
import tomllib

from textual.widgets import DataTable, Input, Select, Static
from tuihelpers import card_state, settle, wait_for

from labdeck.tui.screens.browse import BrowseScreen
from labdeck.tui.screens.demos import DemosScreen
from labdeck.tui.screens.help import HelpScreen
from labdeck.tui.screens.home import HomeScreen
from labdeck.tui.screens.importer import ImportScreen
from labdeck.tui.screens.settings import SettingsScreen
from labdeck.tui.screens.stats import StatsScreen
from labdeck.tui.widgets.cardtext import CardText

SIZE = (120, 36)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _card_count(store) -> int:
    from sqlalchemy import text

    with store.engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM card")).scalar_one()


# ---------------------------------------------------------------- demos


async def test_demo_run_shows_progress_and_escape_kills_the_child(make_app, services):
    app = make_app()
    events: list[str] = []
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.action_demos("attention", "exam-b:b2.1")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DemosScreen) and screen.demo_id == "attention"
        assert screen.preset == "quick"
        original = screen._ev_progress

        async def spy(event):
            events.append(event.get("label", ""))
            await original(event)

        screen._ev_progress = spy
        await pilot.press("ctrl+s")
        # a warm child can finish the quick run within one poll on a loaded machine: wait for
        # the run to have started (and its child to be known), not for it still to be running
        await wait_for(pilot, lambda: screen.run_count >= 1 and screen.child_pid is not None)
        pid = screen.child_pid
        await wait_for(pilot, lambda: bool(events), timeout=60)  # a progress event arrived
        # esc cancels a run; after it, esc would leave the screen. The action is run here, at
        # once, not as a key: a key pressed because the run was still going could be handled
        # after a warm child had finished it (seen at load 5), and left the screen.
        if screen.running:
            await app.run_action("cancel_or_back", screen)
        await wait_for(pilot, lambda: not screen.running, timeout=30)
        await settle(pilot)
        assert not _alive(pid)
        status = str(screen.query_one("#demo-status", Static).render())
        assert status.startswith(("cancelled", "ok"))  # ok only if it beat the key press
        runs = screen.query_one("#demo-runs", DataTable)
        assert runs.row_count == 1
        # the app stays usable: back home, and back again
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, DemosScreen)


async def test_demo_run_ends_with_what_to_notice_and_c_returns_to_the_card(make_app, services):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.action_demos("attention", "exam-b:b2.2")
        await settle(pilot)
        screen = app.screen
        assert "from card exam-b:b2.2" in screen.sub_title
        await pilot.press("ctrl+s")  # run (ctrl+s submits on every screen)
        await wait_for(pilot, lambda: screen.run_count >= 1, timeout=30)
        await wait_for(pilot, lambda: not screen.running, timeout=120)
        await settle(pilot)
        status = str(screen.query_one("#demo-status", Static).render())
        assert status.startswith("ok"), status
        notice = str(screen.query_one("#demo-notice", Static).render())
        assert notice.startswith("What to notice")
        assert "Dividing attention logits by sqrt(d_k)" in notice  # the card's key point
        assert "c returns to the card" in notice
        screen.query_one("#demo-list").focus()
        await pilot.press("c")
        await settle(pilot)
        assert not isinstance(app.screen, DemosScreen)


# ---------------------------------------------------------------- import


async def test_import_seed_document_with_dry_run_preview(
    make_app, services, seed_outline, tmp_path
):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("i")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ImportScreen)
        before = _card_count(services.store)
        await pilot.press("ctrl+l")
        screen.query_one("#import-path", Input).value = str(seed_outline)
        await pilot.press("enter")  # preview: a dry run
        await wait_for(pilot, lambda: not screen.busy)
        await settle(pilot)
        report = str(screen.query_one("#import-report", Static).content)
        assert "Preview (dry run" in report and "would import" in report
        assert _card_count(services.store) == before  # nothing written
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: not screen.busy)
        await settle(pilot)
        report = str(screen.query_one("#import-report", Static).content)
        assert report.startswith("Imported") and "imported" in report
        with services.store.engine.connect() as conn:
            from sqlalchemy import text

            noted = conn.execute(
                text("SELECT count(*) FROM card WHERE notes IS NOT NULL")
            ).scalar_one()
        assert noted > 0 or _card_count(services.store) > before


async def test_import_bad_file_is_a_message_not_a_traceback(make_app, services, tmp_path):
    bad = tmp_path / "broken.md"
    bad.write_bytes(b"# Title\n\n\xff\xfe not utf-8\n")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.push_screen(ImportScreen(root=tmp_path))
        await settle(pilot)
        screen = app.screen
        screen.query_one("#import-path", Input).value = str(bad)
        await pilot.press("f5")
        await wait_for(pilot, lambda: not screen.busy)
        await settle(pilot)
        report = str(screen.query_one("#import-report", Static).content)
        assert f"{bad}:3" in report and "UTF-8" in report
        assert "Traceback" not in report


# ---------------------------------------------------------------- settings


async def test_settings_are_saved_to_config_toml_and_applied(make_app, services, tmp_path):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("comma")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SettingsScreen)
        new = screen.query_one("#set-new_per_day", Input)
        assert new.has_focus
        await pilot.press("ctrl+a", "backspace", "7")  # select all, replace by 7
        new.value = "7"
        screen.query_one("#set-rollover_hour", Input).value = "3"
        screen.query_one("#set-demo_device", Select).value = "cpu"
        await pilot.press("ctrl+s")
        await settle(pilot)
        config = tmp_path / "config.toml"
        assert config.exists()
        saved = tomllib.loads(config.read_text())
        assert saved["new_per_day"] == 7
        assert saved["rollover_hour"] == 3
        assert saved["demo_device"] == "cpu"
        assert app.services.settings.new_per_day == 7
        # a bad value is refused with a message, nothing written
        screen.query_one("#set-rollover_hour", Input).value = "25"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert tomllib.loads(config.read_text())["rollover_hour"] == 3
        message = str(screen.query_one("#settings-message", Static).render())
        assert "between 0 and 23" in message


# ---------------------------------------------------------------- browse


async def test_browse_search_filter_and_suspend(make_app, services):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("b")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, BrowseScreen)
        table = screen.query_one("#browse-table", DataTable)
        total = table.row_count
        assert total > 50
        await pilot.press("slash")
        await pilot.press(*"multi-head attention")
        await settle(pilot)
        assert 0 < table.row_count < total
        first = screen.shown[0]
        info = screen.services.scheduler().card(first.id)
        text = " ".join([info.prompt, info.answer or "", *info.key_points, info.notes or ""])
        assert "multi-head" in text.lower() and "attention" in text.lower()
        detail = screen.query_one("#browse-card", CardText).source
        assert first.key in detail and "**Schedule**" in detail and "Review history" in detail
        await pilot.press("enter")  # leave the search box for the table
        await pilot.press("s")
        await settle(pilot)
        assert card_state(services.store, first.id)["suspended"]
        await pilot.press("f", "f", "f", "f")  # any -> due -> learn -> new -> suspended
        await settle(pilot)
        assert [r.id for r in screen.shown] == [first.id]
        await pilot.press("s")  # unsuspend
        await settle(pilot)
        assert not card_state(services.store, first.id)["suspended"]
        # QA: the state menu had no "buried" (is:buried worked); then leech, edited
        screen.services.scheduler().bury(first.id)
        await pilot.press("f")
        await settle(pilot)
        assert screen.query_one("#browse-state", Select).value == "buried"
        assert [r.id for r in screen.shown] == [first.id]
        await pilot.press("f", "f")
        await settle(pilot)
        assert screen.query_one("#browse-state", Select).value == "edited"
        assert screen.shown == []


# ---------------------------------------------------------------- stats and help


async def test_stats_and_help_open_and_close(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        assert isinstance(app.screen, StatsScreen)
        summary = str(app.screen.query_one("#stats-summary", Static).render())
        assert "streak" in summary
        await pilot.press("escape", "question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("g")
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)


async def test_q_leaves_demos_as_on_every_screen(make_app):
    """QA: ``q`` did nothing on Demos, where the README says it goes back."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, DemosScreen)
        await pilot.press("q")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)

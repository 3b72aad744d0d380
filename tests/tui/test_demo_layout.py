"""The Demos screen at 80×24 and 100×32 (issue 15.5): every column of the run history is drawn
(the table spans the width under the list and the pane), the list's names never run into
their times, and a finished run shows its results, not the explanation above them.

Real app, real SQLite store, a real quick demo run in a child process.
"""

from __future__ import annotations

import re

import pytest
from textual.widgets import DataTable, OptionList
from tuihelpers import NOW, screen_text, settle, visible_columns, wait_for

from labdeck.demos import registry
from labdeck.tui.screens.demos import DemosScreen


def _seed_run(services, demo_id: str = "speculative", status: str = "interrupted") -> None:
    from labdeck.demos import history
    from labdeck.demos.runner import Outcome

    params = registry.get(demo_id).resolve(None, "quick")
    run_id = history.record_start(services.store, demo_id, params, device="cpu", now=lambda: NOW)
    outcome = Outcome(
        status,
        "stopped",
        returncode=0,
        result={"metrics": {"acceptance_rate_measured": 0.8125}, "checks": {}},
    )
    history.record_end(services.store, run_id, outcome, now=lambda: NOW)


async def _open_demos(app, pilot) -> DemosScreen:
    await settle(pilot)
    app.action_demos("attention")
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, DemosScreen)
    return screen


async def _open(app, pilot) -> DemosScreen:
    """The Demos screen once its runs table has the seeded run."""
    screen = await _open_demos(app, pilot)
    await wait_for(pilot, lambda: screen.query_one("#demo-runs", DataTable).row_count > 0)
    await settle(pilot)
    return screen


@pytest.mark.parametrize("size", [(80, 24), (100, 32)], ids=["80x24", "100x32"])
async def test_every_run_column_is_drawn(make_app, services, size) -> None:
    _seed_run(services)
    app = make_app()
    async with app.run_test(size=size) as pilot:
        screen = await _open(app, pilot)
        table = screen.query_one("#demo-runs", DataTable)
        assert visible_columns(table) == ["demo", "status", "metrics", "when"]
        text = screen_text(app)
        assert "speculative" in text and "interrupted" in text
        assert "acceptance_rate_measured=0.8125" in text
        demo_list = screen.query_one("#demo-list", OptionList)
        assert demo_list.max_scroll_x == 0
        for demo in registry.all_demos():
            assert re.search(rf"{demo.id} +~", text), f"{demo.id} runs into its time"


async def test_a_finished_run_shows_its_results_at_80x24(make_app, services) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open_demos(app, pilot)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: screen.run_count == 1 and not screen.running, timeout=120)
        await settle(pilot)
        await pilot.pause(0.2)
        main = screen.query_one("#demo-main")
        metrics = screen.query_one("#demo-metrics", DataTable)
        assert metrics.row_count > 0
        title = screen.query_one("#demo-title")
        # the results open the pane (the explanation above them is scrolled away): at 80x24
        # the notice below attention's 14 metrics would be out of sight, so the pane opens at
        # "What to notice" (test_demo_run_end), the metrics just above it
        notice = screen.query_one("#demo-notice")
        assert main.region.y <= notice.region.y <= main.region.y + 1, notice.region
        assert metrics.region.bottom <= notice.region.y
        assert main.region.intersection(title.region).area == 0


async def test_a_past_run_opens_with_its_header_then_metrics_then_checks(make_app, services):
    from labdeck.demos import history
    from labdeck.demos.runner import Outcome

    params = registry.get("attention").resolve(None, "quick")
    run_id = history.record_start(
        services.store, "attention", params, device="cpu", now=lambda: NOW
    )
    checks = {"sdpa_matches": {"passed": True, "value": 2.98e-07, "target": "<= 1e-5"}}
    outcome = Outcome(
        "ok",
        "finished in 2.0 s; 1/1 checks passed",
        returncode=0,
        result={"metrics": {"sdpa_max_abs_err": 2.98e-07}, "checks": checks},
    )
    history.record_end(services.store, run_id, outcome, now=lambda: NOW)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(app, pilot)
        # what a cancelled run leaves (QA: it stayed under the past run opened next)
        screen._status("cancelled: stopped after 3.1 s; the demo process group was killed")
        await pilot.press("h", "enter")
        await settle(pilot)
        await pilot.pause(0.1)
        assert "cancelled" not in str(screen.query_one("#demo-status").render())
        output = screen.query_one("#demo-output")
        texts = [str(w.render()) for w in output.children]
        assert texts[0].startswith(f"Run #{run_id}: attention ok"), texts
        table = output.children[1]
        assert isinstance(table, DataTable)
        assert [str(c) for c in table.get_row_at(0)] == ["sdpa_max_abs_err", "2.980e-07"]
        assert texts[2].startswith("Checks") and "sdpa_matches" in texts[2]
        main = screen.query_one("#demo-main")
        header = output.children[0]
        assert main.region.y <= header.region.y <= main.region.y + 1, "header not at the top"


async def test_parameter_help_is_drawn_whole_at_100x32(make_app, services) -> None:
    """A parameter's help that wraps past two lines makes its row taller instead of being cut
    (at 100 columns "sentence whose attention weights are drawn (2-16 …" lost its end)."""
    from textual.widgets import Static

    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        app.action_demos("attention")
        await settle(pilot)
        helps = list(app.screen.query(".param-help").results(Static))
        assert helps
        for help_text in helps:
            row = help_text.parent
            # the help's own box (as tall as its text) lies inside its row: no line clipped
            assert help_text.outer_size.height <= row.size.height, str(help_text.render())


async def test_scrolling_up_during_a_run_stops_the_pane_following(make_app, services) -> None:
    """The learner scrolls back to the explanation while the run is going: the output no longer
    pulls the pane down, and the end of the run leaves it where the learner put it."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open_demos(app, pilot)
        main = screen.query_one("#demo-main")
        original = screen._on_event
        scrolled: list[float] = []

        async def spy(run_no, event):
            await original(run_no, event)
            if not scrolled and main.scroll_y > 0:  # followed once: now the learner scrolls up
                scrolled.append(main.scroll_y)
                main.scroll_home(animate=False, immediate=True)

        screen._on_event = spy
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: screen.run_count == 1 and not screen.running, timeout=120)
        await settle(pilot)
        await pilot.pause(0.2)
        assert scrolled, "the pane never followed the run"
        assert main.scroll_y == 0
        assert main.region.intersection(screen.query_one("#demo-title").region).area > 0


async def test_back_to_card_is_offered_only_when_opened_from_a_card(make_app, services) -> None:
    """QA: "c Back to card" showed in the footer of the Demos screen opened from Home."""
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        screen = await _open_demos(app, pilot)
        assert screen.check_action("back_to_card", ()) is False
        assert "Back to card" not in screen_text(app)
        app.pop_screen()
        await settle(pilot)
        app.push_screen(DemosScreen("attention", card_key="exam-b:b2.1"))
        await settle(pilot)
        assert "Back to card" in screen_text(app)

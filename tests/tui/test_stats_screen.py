"""The Stats screen as Anki users read it: true retention by interval band (young / mature),
minutes per day, the 30-day forecast, units on every chart and a note on each empty one."""

from __future__ import annotations

import pytest
from tuihelpers import NOW, screen_text, seed_history, settle, wait_for

from labdeck.tui.screens.stats import RETENTION_WINDOWS, StatsScreen
from labdeck.tui.widgets.plots import Chart


async def _open_stats(app, pilot):
    await settle(pilot)
    await pilot.press("t")
    await wait_for(pilot, lambda: isinstance(app.screen, StatsScreen))
    await wait_for(pilot, lambda: "streak" in str(app.screen.query_one("#stats-summary").render()))
    await settle(pilot)


async def test_empty_charts_say_so(make_app):
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await _open_stats(app, pilot)
        text = screen_text(app)
        assert "no answers yet" in text
        assert "no timed answers yet" in text
        assert "no scheduled reviews yet" in text
        bands = app.screen.query_one("#chart-bands", Chart)
        assert bands.chart_title == "True retention by interval"
        assert "young" not in bands.render().plain  # no pooled shares of nothing


async def test_history_fills_bands_time_and_forecast(make_app, services):
    seed_history(services, NOW, days=21, per_day=8)
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await _open_stats(app, pilot)
        stats = app.services.scheduler().stats
        bands = stats.retention_by_interval()
        young = [b for b in bands if not b.mature]
        reviews = sum(b.reviews for b in young)
        assert reviews > 0
        share = sum(b.passed for b in young) / reviews
        drawn = app.screen.query_one("#chart-bands", Chart).render().plain
        assert f"young {share:.0%} of {reviews} · mature -" in drawn.splitlines()[-1]
        text = screen_text(app)
        assert "no scheduled reviews yet" not in text
        for unit in ("answers", "% with q ≥ 3", "cards due (overdue today)"):
            assert unit in text
        assert "Reviews due, next 30 days" in text and "Time spent per day" in text


async def test_home_shows_the_projected_recall_for_an_exam_date(make_services, make_app):
    from datetime import timedelta

    from labdeck.config import Settings
    from labdeck.tui.screens.home import HomeScreen

    exam = (NOW + timedelta(days=30)).date()
    services = make_services(Settings(exam_dates={"exam-b": exam.isoformat()}))
    seed_history(services, NOW, days=5, per_day=6)
    app = make_app(services)
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        await wait_for(pilot, lambda: "recall then" in screen_text(app))
        text = screen_text(app)
        assert f"exam-b exam {exam:%d %b} (in 30 d)" in text  # one line in the 30 columns
        line = next(x for x in text.splitlines() if "recall then" in x)
        assert "% · " in line and "unseen" in line


async def test_every_chart_keeps_its_title_and_counts_tick_whole_at_80x24(make_app, services):
    """At 80 columns a title wider than its plot is cut with … (plotext dropped it: the mastery
    chart had none), and a chart of counts ticks whole numbers (not 0.17 cards)."""
    import re

    entry = services.scheduler().next_card()
    services.scheduler().answer(entry.card_id, 4)  # one answer: counts of 1, the worst case
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await _open_stats(app, pilot)
        assert "1 answer in 30 days" in str(app.screen.query_one("#stats-summary").render())
        for chart in app.screen.query(Chart):
            drawn = chart.render().plain
            head = chart.chart_title[:12]
            assert head in drawn, (chart.id, chart.chart_title)
            if chart.id in ("chart-reviews", "chart-forecast", "chart-ease"):
                ticks = re.findall(r"^\s*([\d.]+)┤", drawn, re.M)
                assert ticks and all("." not in t for t in ticks), (chart.id, ticks)


@pytest.mark.parametrize("seeded", [False, True], ids=["empty", "seeded"])
@pytest.mark.parametrize("size", [(80, 24), (100, 32)], ids=["80x24", "100x32"])
async def test_every_charts_title_is_drawn_whole(make_app, services, size, seeded):
    """QA at 80x24: "True retention by interval: young - · matur… — no scheduled reviews yet",
    "Retention, % of reviews with q ≥ 3 (n 0/0/0… —"; at 100x32 "True retention… — no
    scheduled reviews yet", "Retention, %… —". Titles now fit their plot whole; an empty
    chart's note is drawn whole inside its plot, the window counts on the retention chart's
    labels and the pooled young / mature shares under the bands."""
    if seeded:
        seed_history(services, NOW, days=21, per_day=8)
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await _open_stats(app, pilot)
        for chart in app.screen.query(Chart):
            lines = chart.render().plain.splitlines()
            assert lines[0].strip() == chart.chart_title, (chart.id, lines[0])
            assert "…" not in "".join(lines), (chart.id, lines)
        for chart_id, note in (
            ("#chart-bands", "no scheduled reviews yet"),
            ("#chart-retention", "no scheduled reviews yet"),
            ("#chart-reviews", "no answers yet"),
        ):
            drawn = app.screen.query_one(chart_id, Chart).render().plain
            inside = [line for line in drawn.splitlines()[2:-3] if note in line]
            assert bool(inside) != seeded, (chart_id, drawn)
        if seeded:
            stats = app.services.scheduler().stats
            retention = app.screen.query_one("#chart-retention", Chart).render().plain
            ticks = retention.splitlines()[-2]
            for _, days in RETENTION_WINDOWS:
                assert f"({stats.retention(days).reviews})" in ticks, ticks
            bands = app.screen.query_one("#chart-bands", Chart).render().plain
            assert "young 7" in bands.splitlines()[-1] and "mature -" in bands, bands
            # what the (n) on each label counts
            retention = app.screen.query_one("#chart-retention", Chart).render().plain
            assert "(reviews)" in retention.splitlines()[-1], retention


async def test_every_interval_band_is_labelled_at_80x24_and_160x45(make_app, services):
    """The band chart thinned its x labels where "21-89 d n97" was wider than a quarter of the
    plot: some bands had none. Every band is labelled, with its review count at 80x24 and
    160x45 (as on main with these counts), shorter where even that does not fit (50 columns:
    main dropped "7-20 d" and "90 d+")."""
    from labdeck.srs.stats import INTERVAL_BANDS

    seed_history(services, NOW, days=21, per_day=8)
    for size in ((80, 24), (160, 45), (50, 24)):
        app = make_app()
        async with app.run_test(size=size) as pilot:
            await _open_stats(app, pilot)
            drawn = app.screen.query_one("#chart-bands", Chart).render().plain
            ticks = drawn.splitlines()[-2].replace(" ", "")  # the line under the x axis
            for label, _, _ in INTERVAL_BANDS:
                assert label.replace(" ", "") in ticks, (size, drawn)
            if size != (50, 24):
                for band in app.services.scheduler().stats.retention_by_interval():
                    assert f"({band.reviews})" in ticks, (size, drawn)  # it said "n97"

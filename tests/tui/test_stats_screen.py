"""The Stats screen as Anki users read it: true retention by interval band (young / mature),
minutes per day, the 30-day forecast, units on every chart and a note on each empty one."""

from __future__ import annotations

from tuihelpers import NOW, screen_text, seed_history, settle, wait_for

from labdeck.tui.screens.stats import StatsScreen
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
        assert "young - · mature -" in app.screen.query_one("#chart-bands", Chart).chart_title


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
        title = app.screen.query_one("#chart-bands", Chart).chart_title
        assert f"young {share:.0%} of {reviews}" in title
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


async def test_an_empty_charts_title_and_note_both_show_at_100x32(make_app):
    """QA at 100x32: the interval-band chart showed no title at all (cut to the widget's width,
    it was still wider than the plot area, and plotext dropped it), and the retention chart's
    title was cut before its "no scheduled reviews yet". Now the title is cut, the note kept."""
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await _open_stats(app, pilot)
        for chart in app.screen.query(Chart):
            drawn = chart.render().plain
            first_line = next(line for line in drawn.splitlines() if line.strip())
            head = chart.chart_title.split()[0]
            assert head in first_line, (chart.id, first_line)
            note = first_line.split(" — ", 1)[-1].strip()  # "no answers yet", "nothing sch…"
            assert " — " in first_line and note.startswith("no") and not note.endswith("…"), (
                chart.id,
                first_line,
            )


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
                    assert f"n{band.reviews}" in ticks, (size, drawn)

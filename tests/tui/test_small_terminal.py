"""Every screen is usable at 80×24 (issue 15.5): the footer's keys are not cut, the exam
compose form's fields, options and Start button are on screen, a running demo's progress is
in view, and the demo-runs table shows each run's status (and, at 160 columns, everything).

Real app, real SQLite store, a real (tiny) demo run in a child process.
"""

from __future__ import annotations

from textual.widgets import Button, Checkbox, DataTable, Footer, Input
from textual.widgets._footer import FooterKey
from tuihelpers import NOW, screen_text, settle, visible_columns, wait_for

SMALL = (80, 24)
LARGE = (160, 45)


def _on_screen(app, widget) -> bool:
    """The whole widget is drawn, inside the screen and above the footer."""
    region = widget.region
    footer = app.screen.query_one(Footer).region
    return region.area > 0 and app.screen.region.contains_region(region) and region.y < footer.y


def _cut_footer_keys(app) -> list[str]:
    footer = app.screen.query_one(Footer)
    right = footer.region.right
    cut = []
    shown = [key for key in footer.query(FooterKey) if key.display]
    palette = [key.region for key in shown if key.has_class("-command-palette")]
    for key in shown:
        if key.region.area == 0 or key.region.right > right:
            cut.append(f"{key.key_display} {key.description}")
        elif not key.has_class("-command-palette") and any(
            key.region.overlaps(region) for region in palette
        ):  # drawn under the palette key, which is docked over the right end
            cut.append(f"{key.key_display} {key.description} (under ^p palette)")
    if footer.virtual_size.width > footer.size.width:
        cut.append(f"(footer needs {footer.virtual_size.width} columns)")
    return cut


def _exam(services, answered: bool) -> int:
    from labdeck.exam.compose import ExamSpec, create_exam
    from labdeck.exam.grade import grade_exam
    from labdeck.exam.session import ExamSession

    spec = ExamSpec(chapters=["B2"], n=3, seed=4, time_per_question_s=60)
    exam_id = create_exam(services.store, spec, now=lambda: NOW).exam_id
    if answered:
        session = ExamSession(services.store, exam_id, clock=lambda: NOW)
        session.start()
        session.set_answer("Queries meet keys in scaled dot products.")
        session.submit()
        grade_exam(services.store, exam_id, services.wait_grader(), now=lambda: NOW)
    return exam_id


async def test_no_footer_is_cut_at_80_columns(make_app, services) -> None:
    from labdeck.tui.screens.exam import (
        ExamContext,
        ExamHistoryScreen,
        ExamReportScreen,
        ExamScreen,
    )

    sitting, graded = _exam(services, answered=False), _exam(services, answered=True)
    ctx = ExamContext.from_services(services)
    app = make_app()
    cut: dict[str, list[str]] = {}
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        cut["home"] = _cut_footer_keys(app)
        for key in ("b", "t", "d", "i", "comma", "question_mark", "e"):
            await pilot.press(key)
            await settle(pilot)
            cut[type(app.screen).__name__] = _cut_footer_keys(app)
            await pilot.press("escape")
            await settle(pilot)
        await pilot.press("enter")
        await wait_for(pilot, lambda: getattr(app.screen, "phase", "") == "answering")
        cut["review"] = _cut_footer_keys(app)
        await pilot.press("escape", "escape")
        await settle(pilot)
        for screen in (
            ExamScreen(ctx, sitting),
            ExamReportScreen(ctx, graded),
            ExamHistoryScreen(ctx),
        ):
            app.push_screen(screen)
            await settle(pilot)
            cut[type(screen).__name__] = _cut_footer_keys(app)
            app.pop_screen()
            await settle(pilot)
    assert len(cut) == 12
    assert {name: keys for name, keys in cut.items() if keys} == {}


async def test_the_palette_key_shows_at_80_columns_where_the_keys_leave_room(make_app) -> None:
    """Below 100 columns the palette key was dropped on every screen; now only where the
    screen's own keys need its room (the exam form; Demos opened from a card, with its
    "c Back to card"), and never over a key."""
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        seen = {}
        for key in (None, "b", "t", "d", "question_mark", "e"):
            if key is not None:
                await pilot.press(key)
                await settle(pilot)
            palette = app.screen.query_one(Footer).query(FooterKey).filter(".-command-palette")
            seen[type(app.screen).__name__] = any(k.display for k in palette)
            assert _cut_footer_keys(app) == []
            if key is not None:
                await pilot.press("escape")
                await settle(pilot)
    assert seen == {
        "HomeScreen": True,
        "BrowseScreen": True,
        "StatsScreen": True,
        "DemosScreen": True,  # from Home: no "c Back to card", room for the palette key
        "HelpScreen": True,
        "ExamSetupScreen": False,
    }, seen


async def test_exam_compose_form_fits_80x24(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        screen = app.screen
        for widget_id in ("#setup-n", "#setup-per", "#setup-total", "#setup-seed"):
            assert _on_screen(app, screen.query_one(widget_id, Input)), widget_id
        for widget_id in ("#setup-weak", "#setup-self", "#setup-drills"):
            assert _on_screen(app, screen.query_one(widget_id, Checkbox)), widget_id
        assert _on_screen(app, screen.query_one("#setup-start", Button))
        text = screen_text(app)
        for words in ("untimed)", "above)", "Include self-graded cards", "Start (ctrl+s)"):
            assert words in text, words  # labels wrap instead of being cut


def _seed_run(services) -> None:
    from labdeck.demos import history, registry
    from labdeck.demos.runner import Outcome

    params = registry.get("attention").resolve(None, "quick")
    run_id = history.record_start(
        services.store, "attention", params, device="cpu", now=lambda: NOW
    )
    outcome = Outcome(
        "ok",
        "finished in 2.0 s; 11/11 checks passed",
        returncode=0,
        result={"metrics": {"sdpa_max_abs_err": 2.98e-07}, "checks": {}},
    )
    history.record_end(services.store, run_id, outcome, now=lambda: NOW)


async def test_demo_runs_table_shows_status(make_app, services) -> None:
    _seed_run(services)
    for size, wanted in ((SMALL, {"demo", "status"}), (LARGE, {"demo", "status", "metrics"})):
        app = make_app()
        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            app.action_demos("attention")
            await settle(pilot)
            table = app.screen.query_one("#demo-runs", DataTable)
            assert table.row_count == 1
            assert wanted <= set(visible_columns(table)), (size, visible_columns(table))
            if size == LARGE:
                assert "sdpa_max_abs_err=2.980e-07" in screen_text(app)


async def test_running_demo_shows_progress_at_80x24(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        app.action_demos("attention")
        await settle(pilot)
        screen = app.screen
        seen: list[bool] = []
        original = screen._ev_progress

        async def spy(event):
            await original(event)
            seen.append(_on_screen(app, screen.query_one("#demo-progress")))

        screen._ev_progress = spy
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: bool(seen), timeout=90)
        assert seen[0], "the progress bar is below the fold"
        assert _on_screen(app, screen.query_one("#demo-status"))
        await wait_for(pilot, lambda: not screen.running, timeout=120)
        await settle(pilot)


def _in_view(container, widget) -> bool:
    """Some of ``widget`` is drawn inside ``container``'s visible region."""
    return container.region.intersection(widget.region).area > 0


async def test_exam_report_fits_80x24_and_ticks_stay_in_view(make_app, services) -> None:
    """Every column of both report tables is drawn at 80×24, and ticking a key point (1–9)
    brings the checklist into view: at this size it starts below the prompt and answer."""
    from labdeck.tui.screens.exam import ExamContext, ExamReportScreen

    graded = _exam(services, answered=True)
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        screen = ExamReportScreen(ExamContext.from_services(services), graded)
        app.push_screen(screen)
        await wait_for(pilot, lambda: screen.report is not None and not screen.busy)
        await settle(pilot)
        for table_id in ("#report-questions", "#report-chapters"):
            table = screen.query_one(table_id, DataTable)
            labels = [str(c.label) for c in table.ordered_columns]
            assert visible_columns(table) == labels, table_id
        detail = screen.query_one("#report-detail")
        points = screen.query_one("#detail-points")
        assert not _in_view(detail, points)  # the premise: below the fold at this size
        await pilot.press("1")
        await wait_for(pilot, lambda: screen.report.questions[0].checklist is not None)
        await settle(pilot)
        assert _in_view(detail, points), "ticked a key point that is not on screen"
        await pilot.press("down")  # the next question is read from its top
        await settle(pilot)
        assert detail.scroll_y == 0


def _wide_exam(services) -> int:
    """A graded exam over eight chapters (one question each, the first answered)."""
    from labdeck.exam.compose import ExamSpec, create_exam
    from labdeck.exam.grade import grade_exam
    from labdeck.exam.session import ExamSession

    chapters = [f"B{i}" for i in range(1, 9)]
    spec = ExamSpec(chapters=chapters, n=8, seed=3, time_per_question_s=60)
    exam_id = create_exam(services.store, spec, now=lambda: NOW).exam_id
    session = ExamSession(services.store, exam_id, clock=lambda: NOW)
    session.start()
    session.set_answer("Attention weighs the encoder states by their similarity to the query.")
    session.submit()
    grade_exam(services.store, exam_id, services.wait_grader(), now=lambda: NOW)
    return exam_id


async def test_exam_history_legend_leaves_the_plot_visible_at_80x24(make_app, services) -> None:
    """plotext draws the legend inside the plot, one line a series: at 80×24 seven series
    (total + six chapters) covered the whole plot. A short plot draws fewer chapters."""
    from labdeck.tui.screens.exam import ExamContext, ExamHistoryScreen

    _wide_exam(services)
    drawn = {}
    for size in (SMALL, LARGE):
        app = make_app()
        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            screen = ExamHistoryScreen(ExamContext.from_services(services))
            app.push_screen(screen)
            await wait_for(pilot, lambda s=screen: bool(s.exams))
            await settle(pilot)
            plot = screen.query_one("#history-plot")
            drawn[size] = len(screen.series())
            legend_rows = drawn[size]
            assert legend_rows * 3 <= plot.size.height, (size, legend_rows, plot.size)
    assert drawn[LARGE] == 1 + ExamHistoryScreen.MAX_SERIES  # total and six of eight chapters
    assert drawn[SMALL] < drawn[LARGE]


async def _home_labels(app, pilot) -> list[str]:
    from textual.widgets import Tree

    tree = app.screen.query_one("#decks", Tree)
    await wait_for(pilot, lambda: len(tree.root.children) == 3)
    for node in tree.root.children:
        node.expand()
    await settle(pilot)
    return [str(n.label) for d in tree.root.children for n in (d, *d.children)]


async def test_home_cuts_long_deck_names_and_names_the_highlighted_one_in_full(
    make_app, services
) -> None:
    """At 80 columns a long deck name is cut with an ellipsis inside the tree (no sideways
    scrolling hides its end), the header names the highlighted deck in full, and at 100
    columns the shipped decks' names are whole."""
    from textual.widgets import Tree

    from labdeck.store.queries import list_decks

    decks = list_decks(services.store)
    names = [d.name for d in decks]
    longest = max(names, key=len)
    longest_key = next(d.key for d in decks if d.name == longest)
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        labels = await _home_labels(app, pilot)
        tree = app.screen.query_one("#decks", Tree)
        assert tree.virtual_size.width <= tree.scrollable_content_region.width
        assert any(label.endswith("…") for label in labels)
        assert not any(longest in label for label in labels)
        deck = next(n for n in tree.root.children if n.data.deck == longest_key)
        tree.move_cursor(deck)
        await settle(pilot)
        assert longest in app.screen.sub_title
        await pilot.resize_terminal(100, 32)
        await settle(pilot)
        labels = [str(n.label) for n in tree.root.children]
        assert all(any(name in label for label in labels) for name in names)


async def test_review_names_the_deck_and_chapter_it_studies(make_app, services) -> None:
    """QA: Review opened from a deck said "Review — rag-interview-notes-检索增强" (the deck's
    key); it names the deck as Home does, and a chapter by its code and title."""
    from textual.widgets import Tree

    from labdeck.tui.screens.review import ReviewScreen

    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await _home_labels(app, pilot)
        tree = app.screen.query_one("#decks", Tree)
        deck = tree.root.children[0]
        name = deck.data.name
        assert name and name != deck.data.deck
        tree.move_cursor(deck)
        await settle(pilot)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ReviewScreen))
        assert app.screen.sub_title == name
        app.pop_screen()
        await settle(pilot)
        deck.expand()
        await settle(pilot)
        chapter = deck.children[1]
        tree.move_cursor(chapter)
        await settle(pilot)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ReviewScreen))
        title = app.screen.sub_title
        assert title.startswith(f"{chapter.data.deck} · {chapter.data.chapter} ") and len(
            title
        ) > len(f"{chapter.data.deck} · {chapter.data.chapter} ")


async def test_reviews_footer_is_not_cut_out_of_the_box_or_rating(make_services, grader) -> None:
    """QA (80×24): out of the answer box Review's footer ended "- Bury r Dem" (it needed 108
    columns), and while rating 90: the keys for what the card lacks (a demo, a Chinese prompt)
    and enter before there is anything to accept were shown."""
    from test_review_frames import app_with_sure_grader

    from labdeck.tui.screens.review import AnswerBox

    app = app_with_sure_grader(make_services, grader)
    cut: dict[str, list[str]] = {}
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        screen = app.screen
        await wait_for(pilot, lambda: getattr(screen, "phase", "") == "answering")
        for n in range(2):
            await pilot.press("escape")  # out of the box
            await settle(pilot)
            cut[f"card {n}, out of the box"] = _cut_footer_keys(app)
            screen.query_one("#answer", AnswerBox).insert("The encoder compresses the input.")
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: screen.phase == "rating", timeout=60)
            await settle(pilot)
            cut[f"card {n}, rating"] = _cut_footer_keys(app)
            await pilot.press("equals_sign", "3")
            await wait_for(pilot, lambda: screen.phase == "answering", timeout=60)
            await settle(pilot)
    assert {name: keys for name, keys in cut.items() if keys} == {}

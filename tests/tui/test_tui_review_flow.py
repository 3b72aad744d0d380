"""Pilot tests of studying: grading with the real model, reveal mode, undo, suspend, empty queue."""

from __future__ import annotations

from datetime import timedelta

from textual.widgets import Static
from tuihelpers import card_state, review_rows, settle, wait_for

from labdeck.config import Settings
from labdeck.tui.screens.review import AnswerBox, ReviewScreen
from labdeck.tui.widgets.cardtext import CardText

SIZE = (120, 36)
ANSWER = (
    "The encoder RNN reads the source tokens and compresses them into a final hidden state, "
    "a fixed context vector. The decoder RNN starts from that vector and generates the output "
    "one token at a time, feeding back its previous token."
)


async def open_review(pilot) -> ReviewScreen:
    await settle(pilot)
    await pilot.press("enter")  # home: study all decks
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ReviewScreen)
    await wait_for(pilot, lambda: screen.phase == "answering")
    return screen


async def test_study_a_card_end_to_end_with_the_real_grader(make_app, services):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(pilot)
        first = screen.card
        assert first is not None and first.answer
        box = screen.query_one("#answer", AnswerBox)
        assert box.has_focus
        box.insert(ANSWER[:-40])
        await pilot.press(*"one token at a time.")  # the last words typed key by key
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: screen.phase == "rating", timeout=60)
        assert screen.result is not None
        grade = str(screen.query_one("#grade", Static).render())
        assert "Score" in grade
        assert ("suggested quality" in grade) == screen.result.sure
        assert ("unsure — tick what you covered" in grade) == (not screen.result.sure)
        assert ("✓" in grade) or ("✗" in grade)  # key points, covered or not
        if screen.result.sure:
            suggested = screen.result.quality
        else:  # unsure: nothing on offer; the first enter offers the grader's own ticks
            assert screen.offered_quality() is None
            await pilot.press("enter")
            suggested = screen.offered_quality()
            assert suggested is not None
        await pilot.press("enter")  # accept the suggestion (or record the ticks)
        await wait_for(pilot, lambda: screen.phase == "answering" and screen.card is not None)
        await settle(pilot)
        rows = review_rows(services.store)
        assert len(rows) == 1
        _id, card_id, quality, mode, undone, answer = rows[0]
        assert card_id == first.card_id and quality == suggested and not undone
        assert answer and answer.endswith("one token at a time.")
        assert mode == "review"
        assert screen.card.card_id != first.card_id  # the next card is shown


async def test_classic_reveal_then_digit(make_app, services):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(pilot)
        first = screen.card
        await pilot.press("space")  # space on an empty box reveals the reference
        await wait_for(pilot, lambda: screen.phase == "rating")
        reference = screen.query_one("#reference", CardText)
        assert reference.display
        await pilot.press("4")
        await wait_for(pilot, lambda: screen.phase == "answering" and screen.card is not None)
        await settle(pilot)
        rows = review_rows(services.store)
        assert [(r[1], r[2], r[5]) for r in rows] == [(first.card_id, 4, None)]
        assert screen.card.card_id != first.card_id


async def test_undo_restores_the_state_and_marks_the_log_row(make_app, services):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(pilot)
        first = screen.card
        before = card_state(services.store, first.card_id)
        await pilot.press("space", "5")
        await wait_for(pilot, lambda: screen.card is not None and screen.card.key != first.key)
        await settle(pilot)
        assert card_state(services.store, first.card_id)["due"] is not None
        await pilot.press("escape")  # leave the answer box: single letters are commands again
        await pilot.press("u")
        await settle(pilot)
        await wait_for(pilot, lambda: screen.card is not None and screen.card.key == first.key)
        rows = review_rows(services.store)
        assert len(rows) == 1 and rows[0][4]  # the row is kept, marked undone
        after = card_state(services.store, first.card_id)
        assert after == before


async def test_suspend_takes_the_card_out_of_the_queue(make_app, services):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(pilot)
        first = screen.card
        await pilot.press("escape", "s")
        await settle(pilot)
        await wait_for(pilot, lambda: screen.card is not None and screen.card.key != first.key)
        assert card_state(services.store, first.card_id)["suspended"]
        assert review_rows(services.store) == []


async def test_empty_queue_shows_a_message_and_the_forecast(make_services):
    from labdeck.tui.app import LabdeckApp

    services = make_services(settings=Settings(new_per_day=0))
    app = LabdeckApp(services, load_grader=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        await wait_for(pilot, lambda: screen.phase == "empty")
        prompt = screen.query_one("#prompt", CardText)
        source = prompt.source
        assert "Nothing left for today" in source
        assert "Tomorrow" in source and ": 0 cards" in source  # the forecast, day by day
        # QA: "Tomorrow and the days after:" listed today first
        days = [line for line in source.splitlines() if line.startswith("- ")]
        tomorrow = services.scheduler().today() + timedelta(days=1)
        assert days[0].startswith(f"- {tomorrow:%a %d %b}:") and len(days) == 7, days
        for action in ("suspend", "bury", "run_demo"):  # no card: not offered, not run
            assert screen.check_action(action, ()) is False, action
        await pilot.press("q")
        await settle(pilot)
        assert not isinstance(app.screen, ReviewScreen)


async def test_a_contradicted_key_point_is_shown_as_such(make_app, services):
    """Swapping the roles of encoder and decoder: the grader marks the key points the answer
    contradicts, and the review screen says so next to the part of the answer at fault."""
    swapped = (
        "The decoder reads the source sequence and compresses the whole source sequence into "
        "one fixed-size context vector. The encoder generates the output tokens "
        "autoregressively, conditioned on the context vector."
    )
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(pilot)
        box = screen.query_one("#answer", AnswerBox)
        box.insert(swapped)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: screen.phase == "rating", timeout=60)
        assert screen.result is not None
        bad = [k for k in screen.result.key_points if k.contradicted]
        assert bad, screen.result.key_points
        assert screen.result.quality <= 2
        grade = str(screen.query_one("#grade", Static).render())
        assert "your answer says the opposite" in grade
        assert "The decoder reads the source sequence" in grade

"""Keys the learner types fast in Review go where they were meant (QA, tmux): an answer typed
and graded with ctrl+s followed by ``=`` ``4`` in the same burst rates it 4, with nothing added
to the answer; undo after a rating brings the card back with its answer.

``burst`` hands the key events to the app the way the terminal driver does with one read of
fast input (tmux send-keys): all at once, before the app handled any of them."""

from __future__ import annotations

from typing import Any

from test_review_frames import app_with_sure_grader
from textual import events
from textual.pilot import Pilot
from tuihelpers import settle, wait_for

from labdeck.tui.screens.review import AnswerBox, ReviewScreen

ANSWER = "The encoder compresses the source into one fixed-length vector"


def burst(pilot: Pilot, *keys: str) -> None:
    for key in keys:
        char = key if len(key) == 1 else None
        name = {" ": "space", "=": "equals_sign"}.get(key, key)
        event = events.Key(name, char)
        event.set_sender(pilot.app)
        pilot.app.post_message(event)


def last_answer(services: Any) -> tuple[int, str | None] | None:
    from sqlalchemy import text

    with services.store.engine.connect() as conn:
        row = conn.execute(
            text("SELECT quality, answer FROM review_log WHERE undone = 0 ORDER BY id DESC")
        ).first()
    return None if row is None else (row[0], row[1])


async def _open_review(pilot: Pilot) -> ReviewScreen:
    await settle(pilot)
    await pilot.press("enter")
    screen = pilot.app.screen
    assert isinstance(screen, ReviewScreen)
    await wait_for(pilot, lambda: screen.phase == "answering")
    await settle(pilot)
    return screen


async def _graded(pilot: Pilot, screen: ReviewScreen) -> None:
    """``ANSWER`` typed into the box and graded: the screen waits for a rating."""
    screen.query_one("#answer", AnswerBox).insert(ANSWER)
    await pilot.press("ctrl+s")
    await wait_for(pilot, lambda: screen.phase == "rating", timeout=60)


async def test_rating_keys_in_the_same_burst_as_ctrl_s_rate(make_services, grader) -> None:
    app = app_with_sure_grader(make_services, grader)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open_review(pilot)
        card = screen.card
        burst(pilot, *ANSWER, "ctrl+s", "=", "4")
        await wait_for(pilot, lambda: screen.card is not card, timeout=60)
        await settle(pilot)
        assert last_answer(app.services) == (4, ANSWER)


async def test_undo_brings_the_card_back_with_its_answer(make_services, grader) -> None:
    app = app_with_sure_grader(make_services, grader)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open_review(pilot)
        card = screen.card
        await _graded(pilot, screen)
        await pilot.press("equals_sign", "2")
        await wait_for(pilot, lambda: screen.card is not card, timeout=60)
        await settle(pilot)
        await pilot.press("escape")  # out of the next card's box, then undo
        await pilot.press("u")
        await wait_for(pilot, lambda: screen.card is not None and screen.card.key == card.key)
        await settle(pilot)
        assert screen.query_one("#answer", AnswerBox).text == ANSWER


async def test_a_kept_answer_comes_back_in_the_next_session(make_services, grader) -> None:
    """QA: ctrl+s, esc ("your answer is kept"), ctrl+q, restart, enter: the card came back with
    an empty box. The kept answer (and one left typed when quitting from Review) is written at
    the session's end and comes back in the next one."""
    from labdeck.tui.app import close_services

    app = app_with_sure_grader(make_services, grader)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open_review(pilot)
        card = screen.card
        await _graded(pilot, screen)
        await pilot.press("escape")  # kept, back on Home
        await settle(pilot)
        assert not isinstance(app.screen, ReviewScreen)
    close_services(app.services)

    app = app_with_sure_grader(make_services, grader)  # a new session on the same home
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open_review(pilot)
        assert screen.card is not None and screen.card.key == card.key
        box = screen.query_one("#answer", AnswerBox)
        assert box.text == ANSWER
        box.insert(" and more")
        await pilot.press("ctrl+q")  # quitting from Review keeps what is typed too
        await settle(pilot)
    close_services(app.services)

    app = app_with_sure_grader(make_services, grader)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open_review(pilot)
        assert screen.query_one("#answer", AnswerBox).text == ANSWER + " and more"


async def test_a_long_card_key_is_cut_on_the_status_line(make_services, grader) -> None:
    """QA (80×24): the status line read "S1 · new card ·" for a card with a long key: it was
    wrapped onto a second line, out of the one-line bar."""
    import dataclasses

    from textual.widgets import Static

    from labdeck.srs.outcomes import Counts

    app = app_with_sure_grader(make_services, grader)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open_review(pilot)
        assert screen.card is not None
        key = "markup-qa:S1:what-does-bold-red-x-mean-in-a-prompt-and-why-it-matters"
        screen.card = dataclasses.replace(screen.card, key=key)
        screen._status(Counts(None, None, "all", 3, 0, 5))
        await settle(pilot)
        line = str(screen.query_one("#review-status", Static).render())
        assert "\n" not in line.strip()
        assert "markup-qa:S1:what" in line and line.rstrip().endswith("…")
        assert len(line.rstrip()) <= 78


async def test_esc_in_the_same_burst_as_ctrl_s_still_leaves(make_services, grader) -> None:
    """Only rating keys (and stray characters) after ctrl+s are held for the grade: esc and
    the app's keys act as ever."""
    app = app_with_sure_grader(make_services, grader)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open_review(pilot)
        burst(pilot, *ANSWER, "ctrl+s", "x", "escape", "escape")
        await settle(pilot)
        await wait_for(pilot, lambda: not isinstance(app.screen, ReviewScreen), timeout=60)
        assert screen.card is not None
        kept = app.services.drafts.get(screen.card.card_id)
        assert kept is not None and kept.text == ANSWER  # graded, kept, not typed into

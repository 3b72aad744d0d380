"""Issue 15.2: a graded, unrated answer is never dropped without a word, and rating keys
pressed straight after ctrl+s act (real store, real grader; grading held open by a gate so the
keys land while it runs)."""

from __future__ import annotations

import threading

import pytest
from textual.widgets import Static
from tuihelpers import SureGrader, review_log, review_rows, settle, wait_for

from labdeck.tui.screens.home import HomeScreen
from labdeck.tui.screens.review import AnswerBox, ReviewScreen

SIZE = (120, 36)
ANSWER = (
    "The encoder RNN reads the source tokens and compresses them into a final hidden state, "
    "a fixed context vector. The decoder RNN starts from that vector and generates the output "
    "one token at a time."
)


class Gated:
    """The real grader, which waits for ``gate`` before grading (so the test's keys arrive
    while the answer is being graded)."""

    def __init__(self, grader) -> None:
        self.grader = grader
        self.gate = threading.Event()

    def grade(self, *args, **kwargs):
        assert self.gate.wait(30), "the test never opened the gate"
        return SureGrader(self.grader).grade(*args, **kwargs)


def sure_services(make_services, grader, **kwargs):
    """The app's services with a grader that is sure of every grade: these tests are about
    keeping and rating a graded answer, whatever the grader's verdict."""
    services = make_services(**kwargs)
    services.reset_grader()
    services.grader_factory = lambda _settings: SureGrader(grader)
    services.load_grader()
    return services


@pytest.fixture
def services(make_services, grader):
    return sure_services(make_services, grader)


def gated_services(make_services, grader):
    services = make_services()
    gated = Gated(grader)
    services.reset_grader()
    services.grader_factory = lambda _settings: gated
    services.load_grader()
    return services, gated


async def open_review(pilot) -> ReviewScreen:
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ReviewScreen)
    await wait_for(pilot, lambda: screen.phase == "answering")
    return screen


async def test_esc_after_grading_keeps_the_answer_for_when_the_card_returns(make_app, services):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(pilot)
        card = screen.card
        screen.query_one("#answer", AnswerBox).insert(ANSWER)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: screen.phase == "rating", timeout=60)
        result = screen.result
        await pilot.press("escape")  # focus left the box at ctrl+s: this is "back"
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        assert review_rows(services.store) == []
        notes = [n.message for n in app._notifications]
        # the card is named by its question (its key is an id, long for an imported card)
        question = " ".join(card.prompt.split())[:30]
        assert any("is kept" in m and question in m for m in notes), notes
        assert not any(card.key in m for m in notes), notes
        await pilot.press("enter")  # study again: the same card, its answer graded as it was
        await settle(pilot)
        again = app.screen
        assert isinstance(again, ReviewScreen)
        assert again.card.card_id == card.card_id
        assert again.query_one("#answer", AnswerBox).text == ANSWER
        await wait_for(pilot, lambda: again.phase == "rating")
        assert again.result is result
        await pilot.press("enter")
        await wait_for(pilot, lambda: again.phase == "answering" and again.card.key != card.key)
        await settle(pilot)
        row = review_log(services.store)
        assert row["card_id"] == card.card_id and row["answer"] == ANSWER
        assert row["quality"] == result.quality


async def test_ticks_survive_leaving_and_coming_back(make_app, services):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(pilot)
        card = screen.card
        screen.query_one("#answer", AnswerBox).insert(ANSWER)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: screen.phase == "rating", timeout=60)
        await pilot.press("3")  # a tick the learner made before leaving
        ticked = list(screen.ticks.ticked)
        await pilot.press("q")  # q (home) keeps it too
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        await pilot.press("enter")
        await settle(pilot)
        again = app.screen
        await wait_for(pilot, lambda: again.phase == "rating")
        assert again.card.card_id == card.card_id and again.ticks.ticked == ticked
        shown = " ".join(str(again.query_one("#grade", Static).render()).split())  # (points wrap)
        assert "(you; grader" in shown
        await pilot.press("enter")  # the ticks changed: enter records what they imply
        await wait_for(pilot, lambda: again.phase == "answering" and again.card.key != card.key)
        await settle(pilot)
        row = review_log(services.store)
        assert row["card_id"] == card.card_id
        assert [r["ticked"] for r in row["checklist"]] == ticked
        assert row["quality"] == again_quality(row)


def again_quality(row) -> int:
    from labdeck.grading.checklist import quality_from_ticks

    ticks = row["checklist"]
    return quality_from_ticks(
        [r["ticked"] for r in ticks], [r["grader"] == "contradicted" for r in ticks]
    )


async def test_esc_while_typing_twice_keeps_the_typed_text(make_app, services):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(pilot)
        card = screen.card
        screen.query_one("#answer", AnswerBox).insert("half an answer")
        await pilot.press("escape", "escape")  # leave the box, then the screen
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        await pilot.press("enter")
        await settle(pilot)
        again = app.screen
        await wait_for(pilot, lambda: again.phase == "answering")
        assert again.card.card_id == card.card_id
        assert again.query_one("#answer", AnswerBox).text == "half an answer"


async def test_enter_straight_after_ctrl_s_accepts_once_graded(make_services, grader):
    from labdeck.tui.app import LabdeckApp

    services, gated = gated_services(make_services, grader)
    app = LabdeckApp(services, load_grader=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(pilot)
        card = screen.card
        screen.query_one("#answer", AnswerBox).insert(ANSWER)
        await pilot.press("ctrl+s", "enter")
        await pilot.pause()
        assert screen.phase == "grading"  # the key arrived while grading
        assert review_rows(services.store) == []
        gated.gate.set()
        await wait_for(pilot, lambda: screen.card is not None and screen.card.key != card.key)
        await settle(pilot)
        row = review_log(services.store)
        assert row["card_id"] == card.card_id
        assert row["quality"] == row["suggested"] and row["answer"] == ANSWER


async def test_equals_digit_straight_after_ctrl_s_rates(make_services, grader):
    from labdeck.tui.app import LabdeckApp

    services, gated = gated_services(make_services, grader)
    app = LabdeckApp(services, load_grader=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(pilot)
        card = screen.card
        screen.query_one("#answer", AnswerBox).insert(ANSWER)
        await pilot.press("ctrl+s", "equals_sign", "4")
        await pilot.pause()
        assert screen.phase == "grading"
        assert screen.query_one("#answer", AnswerBox).text == ANSWER  # nothing typed into it
        gated.gate.set()
        await wait_for(pilot, lambda: screen.card is not None and screen.card.key != card.key)
        await settle(pilot)
        row = review_log(services.store)
        assert row["card_id"] == card.card_id and row["quality"] == 4
        assert row["score"] is not None and row["checklist"]  # graded, ticks kept


async def test_esc_while_grading_goes_back_and_the_answer_comes_back_graded(make_services, grader):
    """Esc leaves at once while the answer is graded; the grade, arriving after the screen
    has gone, goes to the kept answer (QA: ctrl+s and esc in one burst brought the answer
    back ungraded, where the README promises it graded and ticked)."""
    from labdeck.tui.app import LabdeckApp

    services, gated = gated_services(make_services, grader)
    app = LabdeckApp(services, load_grader=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(pilot)
        card = screen.card
        screen.query_one("#answer", AnswerBox).insert(ANSWER)
        await pilot.press("ctrl+s", "escape")
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
        gated.gate.set()  # the grade arrives after the screen has gone: nothing breaks
        await wait_for(pilot, lambda: services.drafts[card.card_id].result is not None)
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen) and review_rows(services.store) == []
        await pilot.press("enter")
        await settle(pilot)
        again = app.screen
        await wait_for(pilot, lambda: again.phase == "rating")
        assert again.card.card_id == card.card_id
        assert again.query_one("#answer", AnswerBox).text == ANSWER
        assert again.result is not None and again.ticks is not None


async def test_undo_while_rating_keeps_the_graded_answer(make_app, services):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(pilot)
        first = screen.card
        await pilot.press("space", "5")  # rate the first card (revealed)
        await wait_for(pilot, lambda: screen.card is not None and screen.card.key != first.key)
        await settle(pilot)
        second = screen.card
        screen.query_one("#answer", AnswerBox).insert(ANSWER)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: screen.phase == "rating", timeout=60)
        result = screen.result
        await pilot.press("u")  # undo the first card's answer: it comes back
        await settle(pilot)
        await wait_for(pilot, lambda: screen.card is not None and screen.card.key == first.key)
        await pilot.press("space", "4")
        await wait_for(pilot, lambda: screen.card is not None and screen.card.key == second.key)
        await settle(pilot)
        await wait_for(pilot, lambda: screen.phase == "rating")
        assert screen.result is result
        assert screen.query_one("#answer", AnswerBox).text == ANSWER


@pytest.mark.parametrize("key", ["s", "-"])
async def test_undoing_a_suspend_or_bury_brings_the_graded_answer_back(make_app, services, key):
    """Suspend (or bury) a graded card, then undo: the card came back with an empty box,
    where undoing an answer brings its text back (QA)."""
    app = make_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_review(pilot)
        first = screen.card
        screen.query_one("#answer", AnswerBox).insert(ANSWER)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: screen.phase == "rating", timeout=60)
        result = screen.result
        await pilot.press(key)
        await wait_for(pilot, lambda: screen.card is not None and screen.card.key != first.key)
        await settle(pilot)
        # the toast says the graded answer was not rated, and how to get it back (QA)
        notes = [n.message for n in app._notifications]
        assert any("not rated; esc, then u brings it back with your answer" in n for n in notes), (
            notes
        )
        await pilot.press("escape", "u")  # out of the next card's box, then undo
        await wait_for(pilot, lambda: screen.card is not None and screen.card.key == first.key)
        await settle(pilot)
        await wait_for(pilot, lambda: screen.phase == "rating")
        assert screen.result is result
        assert screen.query_one("#answer", AnswerBox).text == ANSWER


async def test_a_rated_card_comes_back_as_a_re_drill_with_an_empty_box(make_services, grader):
    """QA: grade, press u ("Nothing to undo": the answer was kept for an undo that never
    came), rate 2: the re-drill opened with the old answer and ticks, "Your graded answer is
    back: rate it". A recorded answer drops what was kept of it."""
    from labdeck.config import Settings
    from labdeck.tui.app import LabdeckApp

    services = sure_services(make_services, grader, settings=Settings(new_per_day=1))
    app = LabdeckApp(services, load_grader=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(pilot)
        first = screen.card
        screen.query_one("#answer", AnswerBox).insert(ANSWER)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: screen.phase == "rating", timeout=60)
        await pilot.press("u")  # nothing recorded yet today: nothing to undo
        await settle(pilot)
        assert screen.card is not None and screen.card.key == first.key
        await pilot.press("equals_sign", "2")  # wrong: re-drilled today, the only card
        await wait_for(pilot, lambda: review_rows(services.store))
        await wait_for(pilot, lambda: screen.phase == "answering", timeout=30)
        await settle(pilot)
        assert screen.card is not None and screen.card.key == first.key  # the re-drill
        assert screen.query_one("#answer", AnswerBox).text == ""
        assert screen.result is None

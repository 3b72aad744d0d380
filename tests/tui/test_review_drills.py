"""Drill cards in the review screen: the reply is checked exactly (never by the embedding
grader), enter accepts the verdict's quality, and the essay's reference is shown after."""

from __future__ import annotations

from textual.widgets import Static
from textual.widgets._footer import FooterKey
from tuihelpers import review_log, review_rows, screen_text, settle, wait_for

from labdeck.tui.screens.review import AnswerBox, ReviewScreen
from labdeck.tui.widgets.cardtext import CardText

SIZE = (120, 36)
SMALL = (80, 24)


class NoGrader:
    def grade(self, *args, **kwargs):
        raise AssertionError("the embedding grader was called for a drill card")


async def open_review(pilot) -> ReviewScreen:
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ReviewScreen)
    await wait_for(pilot, lambda: screen.phase == "answering")
    return screen


async def next_card(pilot, screen: ReviewScreen, done: int) -> None:
    await wait_for(
        pilot,
        lambda: screen.phase == "answering" and len(review_rows(screen.app.services.store)) == done,
    )
    await settle(pilot)


def right_reply(card) -> str:
    drill, showing = card.drill, card.showing
    if card.card_type == "cloze":
        return drill["answers"][0]
    if card.card_type == "choice":
        return " ".join("abcdef"[showing.options.index(c)] for c in drill["correct"])
    return "t" if drill["verdict"] else "f"


async def test_each_drill_type_is_checked_exactly(make_services, make_app) -> None:
    services = make_services()
    services.reset_grader()
    services.grader_factory = lambda _settings: NoGrader()
    services.load_grader()
    app = make_app(services)
    seen: set[str] = set()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(pilot)
        done = 0
        while len(seen) < 3 and done < 40:
            card = screen.card
            assert card is not None
            if not card.is_drill:  # essays: classic reveal and rate
                await pilot.press("space")
                await wait_for(pilot, lambda: screen.phase == "rating")
                await pilot.press("5")
            else:
                box = screen.query_one("#answer", AnswerBox)
                assert box.has_focus and box.single_line
                if card.card_type == "choice":
                    assert "a) " in screen_text(pilot.app) and "Choose" in screen_text(pilot.app)
                box.insert(right_reply(card))
                await pilot.press("enter")  # checks, does not add a line
                await wait_for(pilot, lambda: screen.phase == "rating")
                grade = str(screen.query_one("#grade", Static).render())
                assert "✓ right" in grade, (card.key, grade)
                reference = screen.query_one("#reference", CardText)
                assert reference.display  # the parent essay's reference
                assert screen.offered_quality() == 5
                await pilot.press("enter")
                seen.add(card.card_type)
                row = review_log(services.store)
                assert row["quality"] == 5 and row["sure"] == 1 and row["score"] == 1.0
                assert row["answer"] == right_reply(card)
            done += 1
            await next_card(pilot, screen, done)
    assert seen == {"cloze", "choice", "truefalse"}


async def _to_a_cloze(pilot, screen) -> int:
    """Rate the cards before the first cloze (revealed, 4); how many were rated."""
    done = 0
    while not (screen.card and screen.card.card_type == "cloze") and done < 20:
        await pilot.press("space")
        await wait_for(pilot, lambda: screen.phase == "rating")
        await pilot.press("4")
        done += 1
        await next_card(pilot, screen, done)
    return done


async def test_a_wrong_cloze_reply_offers_quality_one(make_services, make_app) -> None:
    services = make_services()
    app = make_app(services)
    async with app.run_test(size=SMALL) as pilot:
        screen = await open_review(pilot)
        done = await _to_a_cloze(pilot, screen)
        card = screen.card
        assert card is not None and card.card_type == "cloze"
        screen.query_one("#answer", AnswerBox).insert("zzzz")
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen.phase == "rating")
        text = screen_text(pilot.app)
        assert "✗ wrong" in text and "Answer:" in text
        assert screen.offered_quality() == 1
        await pilot.press("equals_sign", "3")  # the learner overrides the verdict
        await next_card(pilot, screen, done + 1)
        assert review_log(services.store)["quality"] == 3


async def test_a_second_enter_in_the_same_burst_accepts_the_checked_drill(
    make_services, make_app
) -> None:
    """QA (tmux): "softmax" Enter Enter in one burst left the card on its verdict: the second
    enter reached the box before the check had made it read-only, asked for the check again
    and was lost. Now it accepts, as ctrl+s Enter does for an essay."""
    from test_review_keystrokes import burst

    services = make_services()
    app = make_app(services)
    async with app.run_test(size=SMALL) as pilot:
        screen = await open_review(pilot)
        done = await _to_a_cloze(pilot, screen)
        card = screen.card
        assert card is not None and card.card_type == "cloze"
        burst(pilot, *"zzzz", "enter", "enter")
        await next_card(pilot, screen, done + 1)
        row = review_log(services.store)
        assert row["quality"] == 1 and row["answer"] == "zzzz"  # the verdict's offer, accepted


def _hint_kind(card) -> str:
    return card.card_type if card.is_drill else "essay"


def _footer_submit(screen: ReviewScreen) -> list[str]:
    """What the footer says ctrl+s does."""
    return [k.description for k in screen.query(FooterKey) if k.display and k.key == "ctrl+s"]


def _submit_words(card) -> list[str]:
    return ["Check answer"] if card.is_drill else ["Grade answer"]


async def test_the_key_line_follows_the_card_that_undo_brings_back(make_services, make_app):
    """Undo from the next card's answer box brings the card before back in the same phase
    (answering): the key line must be that card's, not the one left (a cloze card read
    "type the letter(s)" after undoing from a choice card)."""
    from labdeck.tui.screens.review import DRILL_HINTS

    services = make_services()
    services.reset_grader()
    services.grader_factory = lambda _settings: NoGrader()
    services.load_grader()
    app = make_app(services)
    async with app.run_test(size=SMALL) as pilot:
        screen = await open_review(pilot)
        done = 0
        while True:
            first = screen.card
            assert first is not None and done < 40
            assert _footer_submit(screen) == _submit_words(first), first.key
            await pilot.press("escape", "space")  # leave the box, reveal
            await wait_for(pilot, lambda: screen.phase == "rating")
            await settle(pilot)
            shown = {k.description for k in screen.query(FooterKey) if k.display}
            assert not shown & {"Grade answer", "Reveal"}, shown  # nothing left to grade
            rating_line = str(screen.query_one("#review-keys", Static).render())
            assert "- bury" in rating_line
            # only a card with a demo offers one (QA: b1.1's drills read "r demo")
            assert ("r demo" in rating_line) == bool(first.demos), (first.key, rating_line)
            await pilot.press("5")
            done += 1
            await next_card(pilot, screen, done)
            assert _footer_submit(screen) == _submit_words(screen.card), screen.card.key
            if _hint_kind(screen.card) != _hint_kind(first):
                break
        await pilot.press("escape", "u")  # from the next card's (empty) box
        await wait_for(pilot, lambda: screen.card is not None and screen.card.key == first.key)
        await settle(pilot)
        hint = str(screen.query_one("#review-keys", Static).render())
        wanted = DRILL_HINTS[first.card_type] if first.is_drill else "ctrl+s grade"
        assert wanted in hint, (first.card_type, hint)
        # the footer follows it too: a drill's ctrl+s checks, an essay's grades (it read
        # "Grade answer" on every card; a card back in the same phase kept the last footer)
        assert _footer_submit(screen) == _submit_words(first), first.key
        assert "b bury" not in hint


async def test_a_truefalse_reply_in_words_is_read_or_said_unreadable(make_services, make_app):
    """A t/f drill answered "no idea" read "no answer" (a blank, quality 0); "False, ..." was
    not read at all. Now the first is graded wrong and says what the drill takes."""
    services = make_services()
    app = make_app(services)
    async with app.run_test(size=SMALL) as pilot:
        screen = await open_review(pilot)
        done = 0
        while not (screen.card and screen.card.card_type == "truefalse") and done < 30:
            await pilot.press("escape", "space")
            await wait_for(pilot, lambda: screen.phase == "rating")
            await pilot.press("4")
            done += 1
            await next_card(pilot, screen, done)
        card = screen.card
        assert card is not None and card.card_type == "truefalse"
        box = screen.query_one("#answer", AnswerBox)
        box.insert("no idea")
        await pilot.press("enter")  # asked again once, with what the drill takes
        await settle(pilot)
        assert screen.phase == "answering" and box.has_focus and not box.read_only
        grade = str(screen.query_one("#grade", Static).render())
        assert "Not read as an answer" in grade and "t or f" in grade, grade
        await pilot.press("enter")  # the same reply again: graded wrong
        await wait_for(pilot, lambda: screen.phase == "rating")
        grade = str(screen.query_one("#grade", Static).render())
        assert "not read as an answer" in grade and "t or f" in grade
        assert "no answer" not in grade
        assert screen.offered_quality() == 1


async def _to_a_drill(pilot, screen: ReviewScreen, kind: str) -> None:
    done = 0
    while not (screen.card and screen.card.card_type == kind) and done < 40:
        await pilot.press("escape", "space")
        await wait_for(pilot, lambda: screen.phase == "rating")
        await pilot.press("4")
        done += 1
        await next_card(pilot, screen, done)
    assert screen.card is not None and screen.card.card_type == kind


async def test_a_stray_key_as_a_choice_reply_is_asked_again_not_graded(make_services, make_app):
    """QA: "u" typed into a choice card's box (meant as undo) was graded wrong at once. An
    unreadable reply is asked again, naming the letters; a readable one is then graded."""
    app = make_app(make_services())
    async with app.run_test(size=SMALL) as pilot:
        screen = await open_review(pilot)
        await _to_a_drill(pilot, screen, "choice")
        card = screen.card
        done = len(review_rows(app.services.store))
        box = screen.query_one("#answer", AnswerBox)
        await pilot.press("u", "enter")
        await settle(pilot)
        assert screen.phase == "answering" and box.has_focus and box.text == "u"
        grade = str(screen.query_one("#grade", Static).render())
        last = "abcdef"[len(card.showing.options) - 1]
        assert f"the option letters (a–{last})" in grade, grade
        assert len(review_rows(app.services.store)) == done  # nothing recorded
        await pilot.press("backspace", *right_reply(card).replace(" ", ""), "enter")
        await wait_for(pilot, lambda: screen.phase == "rating")
        grade = str(screen.query_one("#grade", Static).render())
        assert "✓ right" in grade and screen.offered_quality() == 5, grade
        # the answer is on screen now: no editing the reply after it (w edits essays only)
        assert "w edit" not in str(screen.query_one("#review-keys", Static).render())
        await pilot.press("w")
        await settle(pilot)
        assert screen.phase == "rating" and screen.query_one("#answer", AnswerBox).read_only


async def test_a_revealed_truefalse_card_shows_its_verdict_and_the_why_once(
    make_services, make_app
):
    """QA: a t/f card revealed read "Answer: True — <why>" and then "Why: <why>"."""
    app = make_app(make_services())
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(pilot)
        await _to_a_drill(pilot, screen, "truefalse")
        card = screen.card
        why = card.drill["why"]
        await pilot.press("escape", "space")
        await wait_for(pilot, lambda: screen.phase == "rating")
        grade = str(screen.query_one("#grade", Static).render())
        verdict = "true" if card.drill["verdict"] else "false"
        assert f"Answer: {verdict}\n" in grade, grade
        assert grade.count(why[:30]) == 1, grade


async def test_drill_feedback_shows_latex_as_the_reference_does(make_services, make_app) -> None:
    """The answer, the filled-in cloze and the why go through the card text's converter."""
    from labdeck.drills.grade import DrillResult

    services = make_services()
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(pilot)
        await _to_a_cloze(pilot, screen)
        card = screen.card
        assert card is not None and card.drill is not None and card.card_type == "cloze"
        card.drill["text"] = r"Attention weights are {{c1::$\softmax(QK^T/\sqrt{d_k})$}}."
        screen._show_drill_result(DrillResult(1, False, "wrong", r"$\frac{QK^T}{\sqrt{d_k}}$"))
        await settle(pilot)
        grade = str(screen.query_one("#grade", Static).render())
        assert "Answer: QK^T/√(d_k)" in grade, grade
        assert "Attention weights are softmax(QK^T/√(d_k))." in grade, grade
        assert "$" not in grade and "\\" not in grade, grade

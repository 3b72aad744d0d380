"""Issue 15.9: each rating shows when the card is seen next, as Anki's buttons do, from the
transitions the answer applies (``Scheduler.preview``): ``again today, then 1d`` for q < 4 (a re-drill
later today, then due in a day), ``again today`` for a re-drill answer that brings it back,
``6d`` when it is next seen in six days. New, re-drill, review, FSRS deck, drill card; and the
rating applies the very transition shown. Real app, real store; no grader needed (reveal)."""

from __future__ import annotations

from datetime import date, timedelta

from textual.widgets import Static
from tuihelpers import NOW, review_log, review_rows, screen_text, settle, wait_for

from labdeck.config import Settings
from labdeck.srs import sm2, step
from labdeck.srs.scheduler import Scheduler
from labdeck.tui.screens.review import ReviewScreen

SMALL = (80, 24)
TODAY = NOW.date()


def entries(screen) -> dict[int, str]:
    """Quality -> its label, read from the interval line as rendered."""
    line = screen.query_one("#intervals", Static).content
    out = {}
    for part in line.plain.removeprefix("Next:").replace("\n", "  ").split("  "):
        if " → " in part:
            qs, label = part.strip().split(" → ", 1)
            first, _, last = qs.partition("–")  # "0–3": qualities that do the same
            for q in range(int(first), int(last or first) + 1):
                out[q] = label
    return out


def fits(screen, width: int) -> None:
    """Every line of the interval line fits the screen, and each entry is drawn whole."""
    line = screen.query_one("#intervals", Static).content
    assert all(len(row) <= width - 4 for row in line.plain.split("\n")), line.plain
    body = screen.query_one("#review-body")
    body.scroll_end(animate=False)


async def reveal(pilot, screen) -> None:
    await wait_for(pilot, lambda: screen.phase == "answering")
    await pilot.press("space")
    await wait_for(pilot, lambda: screen.phase == "rating")
    await settle(pilot)


async def open_review(pilot) -> ReviewScreen:
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ReviewScreen)
    await wait_for(pilot, lambda: screen.phase == "answering")
    return screen


async def test_a_new_card_then_its_redrill_at_80x24(make_services, make_app) -> None:
    services = make_services(settings=Settings(new_per_day=1))
    app = make_app(services)
    async with app.run_test(size=SMALL) as pilot:
        screen = await open_review(pilot)
        card = screen.card
        assert card is not None and card.kind == "new"
        await reveal(pilot, screen)
        assert entries(screen) == {
            0: "again today, then 1d",
            1: "again today, then 1d",
            2: "again today, then 1d",
            3: "again today, then 1d",
            4: "1d",
            5: "1d",
        }
        fits(screen, SMALL[0])
        await settle(pilot)
        shown = screen_text(app)
        # on screen, whole; the four same outcomes as one entry, on one line at 80 columns
        assert "Next: 0–3 → again today, then 1d  4–5 → 1d" in shown, shown
        await pilot.press("2")  # wrong: it comes back today
        await wait_for(pilot, lambda: screen.phase == "answering" and screen.card is not None)
        await settle(pilot)
        row = review_log(services.store)
        assert row["mode"] == "review" and str(row["new_due"])[:10] == str(
            TODAY + timedelta(days=1)
        )
        assert screen.card.card_id == card.card_id and screen.card.kind == "redrill"
        await reveal(pilot, screen)
        assert entries(screen) == {
            0: "again today",
            1: "again today",
            2: "again today",
            3: "again today",
            4: "1d",
            5: "1d",
        }
        assert "(re-drill: schedule unchanged)" in screen.query_one("#intervals", Static).content
        fits(screen, SMALL[0])
        await pilot.press("4")  # right at last: done for today, due tomorrow as shown
        await wait_for(pilot, lambda: screen.phase == "empty")
        await settle(pilot)
        rows = review_rows(services.store)
        assert [(r[1], r[2], r[3]) for r in rows] == [
            (card.card_id, 2, "review"),
            (card.card_id, 4, "redrill"),
        ]


async def test_a_review_card_shows_its_sm2_intervals(make_services, make_app) -> None:
    services = make_services()
    yesterday = Scheduler(services.store, services.settings, now=lambda: NOW - timedelta(days=1))
    first = yesterday.next_card()
    assert first is not None
    yesterday.answer(first.card_id, 4)  # n = 1, EF 2.5, I = 1: due today
    app = make_app(services)
    async with app.run_test(size=SMALL) as pilot:
        screen = await open_review(pilot)
        assert screen.card is not None and screen.card.card_id == first.card_id
        assert screen.card.kind == "review"
        await reveal(pilot, screen)
        # q < 3: a lapse (I = 1); q = 3: passes (I = 6) and is re-drilled today; q ≥ 4: 6 days
        assert entries(screen) == {
            0: "again today, then 1d",
            1: "again today, then 1d",
            2: "again today, then 1d",
            3: "again today, then 6d",
            4: "6d",
            5: "6d",
        }
        await pilot.press("5")
        await wait_for(pilot, lambda: screen.card is not None and screen.card.key != first.key)
        await settle(pilot)
        row = review_log(services.store)
        assert row["card_id"] == first.card_id and str(row["new_due"])[:10] == str(
            TODAY + timedelta(days=6)
        )


async def test_an_fsrs_deck_shows_its_own_intervals(make_services, make_app) -> None:
    services = make_services(settings=Settings(deck_schedulers={"exam-b": "fsrs"}))
    app = make_app(services)
    async with app.run_test(size=SMALL) as pilot:
        screen = await open_review(pilot)
        card = screen.card
        assert card is not None and card.key.startswith("exam-b:")
        await reveal(pilot, screen)
        shown = entries(screen)
        previews = services.scheduler().preview(card.card_id)
        assert shown == {q: step.preview_label(t) for q, t in previews.items()}
        assert all(shown[q].startswith("again today, then ") for q in (0, 1, 2, 3))
        days = {q: previews[q].days for q in (4, 5)}
        assert days[5] > days[4] > 1  # FSRS's first intervals, not SM-2's 1 day
        await pilot.press("5")
        await wait_for(pilot, lambda: screen.card is not None and screen.card.key != card.key)
        await settle(pilot)
        row = review_log(services.store)
        assert str(row["new_due"])[:10] == str(TODAY + timedelta(days=days[5]))  # as shown


async def test_a_drill_card_shows_intervals_too(make_services, make_app) -> None:
    services = make_services(settings=Settings(new_per_day=60))
    app = make_app(services)
    async with app.run_test(size=SMALL) as pilot:
        screen = await open_review(pilot)
        for _ in range(40):
            if screen.card is not None and screen.card.is_drill:
                break
            key = screen.card.key
            await reveal(pilot, screen)
            await pilot.press("5")
            await wait_for(pilot, lambda k=key: screen.card is not None and screen.card.key != k)
        card = screen.card
        assert card is not None and card.is_drill, "no drill card in the first 40"
        await pilot.press("enter")  # an empty reply is checked: wrong
        await wait_for(pilot, lambda: screen.phase == "rating")
        await settle(pilot)
        shown = entries(screen)
        assert shown[0] == "again today, then 1d" and shown[4] == "1d" and shown[5] == "1d"


async def test_the_rating_applies_what_was_shown_or_shows_it_again(make_app, services) -> None:
    """The card is answered elsewhere while its intervals are on screen: the rating is refused
    (``Stale``), the new intervals are shown (now those of a re-drill) and nothing is lost."""
    app = make_app()
    async with app.run_test(size=SMALL, notifications=True) as pilot:
        screen = await open_review(pilot)
        card = screen.card
        await reveal(pilot, screen)
        assert entries(screen)[4] == "1d"
        Scheduler(services.store, services.settings, now=lambda: NOW).answer(card.card_id, 5)
        await pilot.press("4")
        await wait_for(pilot, lambda: screen.phase == "rating")
        await settle(pilot)
        assert screen.card.card_id == card.card_id
        assert [r[2] for r in review_rows(services.store)] == [5]  # only the other answer
        assert entries(screen)[0] == "again today"  # a re-drill now
        notes = [n.message for n in app._notifications]
        assert any("changed since its intervals were shown" in n for n in notes), notes
        await pilot.press("4")
        await wait_for(pilot, lambda: screen.card is not None and screen.card.key != card.key)
        await settle(pilot)
        assert [(r[2], r[3]) for r in review_rows(services.store)] == [
            (5, "review"),
            (4, "redrill"),
        ]


def test_preview_labels_of_real_transitions() -> None:
    day = date(2026, 11, 22)
    rules = step.Rules(sm2.next_state, leech_threshold=2, leech_every=0)
    new = step.Snapshot()
    assert [step.preview_label(step.answer(new, q, day, "review", rules)) for q in range(6)] == [
        "again today, then 1d",
        "again today, then 1d",
        "again today, then 1d",
        "again today, then 1d",
        "1d",
        "1d",
    ]
    mature = step.Snapshot(sm2.State(5, "2.50", 40), due=day, lapses=1)
    labels = [step.preview_label(step.answer(mature, q, day, "review", rules)) for q in range(6)]
    # q < 3 lapses the card a second time: the leech point suspends it instead
    assert labels == ["leech: suspended"] * 3 + ["again today, then 3.2mo", "3.3mo", "3.5mo"]
    redrill = step.Snapshot(sm2.State(1, "2.50", 1), due=day + timedelta(days=1))
    assert [step.preview_label(step.answer(redrill, q, day, "redrill", rules)) for q in (3, 4)] == [
        "again today",
        "1d",
    ]
    assert [step.span_text(d) for d in (0, 6, 29, 30, 45, 364, 365, 800)] == [
        "0d",
        "6d",
        "29d",
        "1mo",
        "1.5mo",
        "12.1mo",
        "1y",
        "2.2y",
    ]

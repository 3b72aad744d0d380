"""Issue 19 §1 / 15 §13: while Home is shown, the highlighted scope's first card is rendered for
Review (``review.prepare_first``), so Enter costs the screen, not the rendering. Review reads its
queue and the card again when it opens and reuses the rendering only while the card's content
is the one it was rendered from: an answer, an edit or a suspension made meanwhile never shows
a stale card. Real store, real scheduler, Pilot."""

from __future__ import annotations

from tuihelpers import settle, wait_for

from labdeck.tui.screens.home import HomeScreen
from labdeck.tui.screens.review import ReviewScreen

SIZE = (100, 32)


async def home_with_first_card_rendered(pilot, services) -> int:
    """Home shown, its counts read, and the queue's first card rendered ahead; its id."""
    home = pilot.app.screen
    assert isinstance(home, HomeScreen)
    await wait_for(pilot, lambda: "store" in home.counts_sources)
    first = services.scheduler().queue_and_counts().entries[0].card_id
    await wait_for(pilot, lambda: services.rendered.get(first) is not None)
    await settle(pilot)
    return first


async def open_review(pilot) -> ReviewScreen:
    await pilot.press("enter")
    screen = pilot.app.screen
    assert isinstance(screen, ReviewScreen)
    await wait_for(pilot, lambda: screen.phase == "answering" and screen.card is not None)
    await settle(pilot)
    return screen


async def test_home_renders_the_first_card_and_review_shows_that_rendering(make_app, services):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        first = await home_with_first_card_rendered(pilot, services)
        ahead = services.rendered.get(first)
        screen = await open_review(pilot)
        assert screen.card.card_id == first
        assert screen.prepared is not None
        assert screen.prepared.prompt is ahead.prompt  # rendered on Home, not again
        assert screen.query_one("#prompt").source == ahead.prompt.source


async def test_a_card_edited_after_it_was_rendered_is_shown_as_edited(make_app, services):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        first = await home_with_first_card_rendered(pilot, services)
        scheduler = services.scheduler()
        card = scheduler.card(first)
        assert card.kind == "essay"
        ahead = services.rendered.get(first)
        edited = "Edited meanwhile: what does the encoder hand the decoder?"
        assert scheduler.edit(first, edited, card.answer, list(card.key_points))
        screen = await open_review(pilot)
        assert screen.card.card_id == first
        assert screen.card.prompt == edited
        assert screen.query_one("#prompt").source.startswith(edited)
        assert screen.prepared.prompt is not ahead.prompt


async def test_a_card_answered_or_suspended_meanwhile_is_not_shown(make_app, services):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        first = await home_with_first_card_rendered(pilot, services)
        scheduler = services.scheduler()
        scheduler.answer(first, 5, answer="answered elsewhere", duration_ms=1)
        entries = scheduler.queue_and_counts().entries
        if entries[0].card_id == first:  # (answered well, a new card may not come back today)
            scheduler.suspend(first, True)
            entries = scheduler.queue_and_counts().entries
        assert entries[0].card_id != first
        screen = await open_review(pilot)
        assert screen.card.card_id == entries[0].card_id != first

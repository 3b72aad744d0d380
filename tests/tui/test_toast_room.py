"""Notifications stay clear of the key lines above the footer (QA at 80×24: a toast covered
the review's key line and next intervals, the very keys it pointed to). Real app and store."""

from __future__ import annotations

from textual.widgets._toast import Toast
from tuihelpers import settle, wait_for

from labdeck.tui.screens.review import ReviewScreen


async def test_a_toast_on_review_sits_above_its_intervals_and_keys(make_app) -> None:
    async with make_app().run_test(size=(80, 24), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, ReviewScreen))
        review = pilot.app.screen
        await wait_for(pilot, lambda: review.phase == "answering")
        await pilot.press("escape", "space")  # leave the box, reveal: intervals and keys show
        await wait_for(pilot, lambda: review.phase == "rating")
        await settle(pilot)
        lines = [review.query_one("#intervals"), review.query_one("#review-keys")]
        assert all(line.region.height for line in lines)
        review.notify("Qualities run from 0 to 5, and this note is long enough to wrap.")
        await wait_for(pilot, lambda: any(t.region.height for t in review.query(Toast)))
        await settle(pilot)
        (toast,) = review.query(Toast)
        for line in lines:
            assert not toast.region.overlaps(line.region), line.id
        assert toast.region.bottom <= min(line.region.y for line in lines)

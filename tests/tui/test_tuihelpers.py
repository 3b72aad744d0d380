"""The TUI tests' own helpers behave (a flaky helper fails tests at random under load)."""

from __future__ import annotations

import asyncio

from textual.app import App
from tuihelpers import settle


async def test_settle_tolerates_a_worker_cancelled_by_a_newer_exclusive_one() -> None:
    """A worker replaced by a newer exclusive one of its group while ``settle`` waits for it has
    finished; ``settle`` goes on to wait for the newer one (it raised WorkerCancelled before:
    test_browse_anki failed so once, its detail worker replaced during a slow search)."""
    never = asyncio.Event()
    done: list[str] = []

    async def older() -> None:
        await never.wait()  # only a cancellation ends it

    async def newer() -> None:
        done.append("newer")

    app = App()
    async with app.run_test() as pilot:
        first = app.run_worker(older, group="detail", exclusive=True)
        # half a second: settle is waiting for ``first`` by then (were it not, the test passes)
        app.set_timer(0.5, lambda: app.run_worker(newer, group="detail", exclusive=True))
        await settle(pilot)
        assert first.is_cancelled
        assert done == ["newer"]

"""A worker that finishes as the app closes never touches the widgets that closing removed.

CI saw it once (`d` `q` then the test's exit, on a loaded machine): Home's refresh worker,
started as Home came back on screen, handed its counts to the UI while the app was shutting
down, ``_show`` looked for the deck tree that was already gone, and the app ended on
``WorkerFailed: NoMatches('#decks')`` (a learner would see a traceback as labdeck quits). Real
app and store; the one thing controlled is *when* the worker's read returns: the real read,
held until the app's shutdown is removing Home's deck tree.
"""

from __future__ import annotations

import asyncio
import threading
import time

from textual import events
from textual._context import active_message_pump
from textual.widgets import Tree
from textual.worker import WorkerState
from tuihelpers import wait_for

import labdeck.tui.home_view as home_view
from labdeck.tui.screens.home import HomeScreen


async def test_home_counts_read_during_shutdown_are_dropped_quietly(make_app, monkeypatch):
    app = make_app()
    real = home_view.read
    hold = threading.Event()  # set: the next read is held
    held = threading.Event()  # the held read has its view
    release = threading.Event()  # Home is being unmounted
    returned: list[bool] = []

    def read(*args, **kwargs):
        view = real(*args, **kwargs)
        if hold.is_set():
            held.set()
            release.wait(timeout=30)
            returned.append(True)
        return view

    def hook(message) -> None:
        pump = active_message_pump.get()
        if isinstance(message, events.Unmount) and isinstance(pump, Tree) and pump.id == "decks":
            release.set()
            # the UI thread waits for the worker to hand its counts over (a loaded machine's
            # timing): they reach the loop while the shutdown is still under way
            returned_at = time.monotonic() + 5
            while not returned and time.monotonic() < returned_at:
                time.sleep(0.001)
            time.sleep(0.05)

    monkeypatch.setattr(home_view, "read", read)
    async with app.run_test(size=(80, 24), message_hook=hook) as pilot:
        home = app.screen
        assert isinstance(home, HomeScreen)
        await wait_for(pilot, lambda: "store" in home.counts_sources)
        await wait_for(pilot, lambda: all(w.is_finished for w in app.workers))
        hold.set()
        worker = home.refresh_data()  # as Home does each time it comes back on screen
        await wait_for(pilot, held.is_set)
    # the worker's counts came while the app closed: dropped, and nothing was raised
    deadline = time.monotonic() + 10
    while not worker.is_finished and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    assert release.is_set() and returned
    assert worker.state is not WorkerState.ERROR, worker.error


async def test_a_worker_result_for_a_popped_screen_is_dropped(make_app):
    """A popped screen stays attached while its widgets are removed: Browse's loader, ending
    in that moment (`b` `q` in one burst), set the deck menu whose overlay was gone and the
    app ended on ``WorkerFailed: NoMatches('SelectOverlay')`` (CI). The screen is off the
    stack at once, and a callback for it no longer runs."""
    from tuihelpers import settle

    from labdeck.tui.screens.browse import BrowseScreen

    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        await pilot.press("b")
        await wait_for(pilot, lambda: isinstance(app.screen, BrowseScreen))
        browse = app.screen
        await settle(pilot)
        ran = []
        guarded = browse.ui_call(ran.append, "late")
        app.pop_screen()  # not awaited: off the stack, its widgets not yet removed
        assert browse.is_attached
        assert await guarded() is False and ran == []
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)

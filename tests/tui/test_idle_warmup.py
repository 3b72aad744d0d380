"""The grading model loads when the app is idle (or a review opens), not while the learner
moves around: its 1–2 s of CPU would hold the GIL while Browse or a card is being drawn."""

from __future__ import annotations

import threading

from tuihelpers import wait_for

import labdeck.tui.app as app_module
from labdeck.tui.app import LabdeckApp
from labdeck.tui.screens.home import HomeScreen


async def test_the_model_waits_for_an_idle_moment(make_services, grader, monkeypatch):
    asked = threading.Event()

    def factory(_settings):
        asked.set()
        return grader

    services = make_services()
    services.reset_grader()
    services.grader_factory = factory
    monkeypatch.setattr(app_module, "IDLE_S", 3600.0)  # the learner never stops pressing keys
    app = LabdeckApp(services)  # loads the model itself, as the real app does
    async with app.run_test(size=(100, 32)) as pilot:
        home = app.screen
        assert isinstance(home, HomeScreen)
        await wait_for(pilot, lambda: "store" in home.counts_sources)
        await pilot.press("down", "up")
        await pilot.pause(2.5)  # the old app started the load at the counts or after 2 s
        assert not asked.is_set() and not services.grader_ready
        monkeypatch.setattr(app_module, "IDLE_S", 0.0)  # now idle
        await wait_for(pilot, lambda: services.grader_ready)
        assert asked.is_set()


async def test_opening_a_review_loads_it_at_once(make_services, grader, monkeypatch):
    services = make_services()
    services.reset_grader()
    services.grader_factory = lambda _settings: grader
    monkeypatch.setattr(app_module, "IDLE_S", 3600.0)
    app = LabdeckApp(services)
    async with app.run_test(size=(100, 32)) as pilot:
        await wait_for(pilot, lambda: "store" in app.screen.counts_sources)
        await pilot.press("enter")
        await wait_for(pilot, lambda: services.grader_ready)

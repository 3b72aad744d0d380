"""The grading model loads when the app is idle (or a review opens), not while the learner
moves around: its 1–2 s of CPU would hold the GIL while Browse or a card is being drawn."""

from __future__ import annotations

import gc
import threading

from tuihelpers import wait_for

import labdeck.tui.app as app_module
from labdeck.tui.app import LabdeckApp
from labdeck.tui.css_warm import default_css_sources, imported_widget_types, prime_default_css
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


async def test_the_warm_up_parses_the_screens_css_and_settles_the_heap(
    make_services, grader, monkeypatch
):
    """Browse's first frame parsed ~12 CSS sources of widget classes Home has not shown
    (Select, DataTable, ...) and, after the model had loaded, ran a full collection over its
    objects (36-44 ms): the warm-up does both beforehand."""
    services = make_services()
    services.reset_grader()
    services.grader_factory = lambda _settings: grader
    monkeypatch.setattr(app_module, "IDLE_S", 0.0)
    monkeypatch.setattr(app_module, "_HEAP_SETTLED", False)
    app = LabdeckApp(services)
    frozen = gc.get_freeze_count()
    async with app.run_test(size=(100, 32)) as pilot:
        await wait_for(pilot, lambda: app.warmed_up)
        assert app_module._HEAP_SETTLED
        assert gc.get_freeze_count() > frozen  # what the warm-up made is frozen
        cache = app.stylesheet._parse_cache  # Textual's own cache of parsed CSS sources
        misses = cache.misses
        await pilot.press("b")
        await wait_for(
            pilot,
            lambda: (
                type(app.screen).__name__ == "BrowseScreen"
                and app.screen.query_one("#browse-table").row_count > 0
            ),
        )
        assert cache.misses == misses  # nothing parsed as Browse opened


def test_priming_covers_every_imported_widget_class(make_services):
    import labdeck.tui.screens.browse  # noqa: F401

    app = LabdeckApp(make_services())
    stylesheet = app.stylesheet
    assert prime_default_css(stylesheet) > 0
    assert prime_default_css(stylesheet) == 0  # all parsed: a second call parses nothing
    for widget_type in imported_widget_types():
        for where, css, tie_breaker, scope in default_css_sources(widget_type):
            assert (css, where, True, tie_breaker, scope) in stylesheet._parse_cache

"""Start-up: Home is the app's first screen, and the app's idle check may look at a Home that
is not mounted yet (its first tick can come first on a loaded machine)."""

from __future__ import annotations

from tuihelpers import settle, wait_for

import labdeck.tui.app as app_module
from labdeck.tui.app import LabdeckApp
from labdeck.tui.screens.home import HomeScreen


async def test_home_is_the_first_screen_with_nothing_blank_below(make_services):
    app = LabdeckApp(make_services(), load_grader=False)
    async with app.run_test(size=(100, 32)) as pilot:
        home = app.screen
        assert isinstance(home, HomeScreen)
        assert app.screen_stack == [home]  # no blank default screen under it
        await wait_for(pilot, lambda: "store" in home.counts_sources)
        await pilot.press("b")
        await settle(pilot)
        assert type(app.screen).__name__ == "BrowseScreen"
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is home and app.screen_stack == [home]


async def test_the_idle_check_on_a_home_not_mounted_yet(make_services, monkeypatch):
    """Before the fix the check raised AttributeError (``counts_sources`` was set in
    ``on_mount``), which the app turned into a "Something went wrong" notification."""
    monkeypatch.setattr(app_module, "IDLE_S", 0.0)
    app = LabdeckApp(make_services(), load_grader=True)
    async with app.run_test(size=(100, 32)) as pilot:
        await wait_for(pilot, lambda: "store" in app.screen.counts_sources)
        await settle(pilot)
        app._grader_requested = False  # as at start: the warm-up has not been started
        early = HomeScreen()
        app.push_screen(early)  # on the stack at once; mounted later
        assert app.screen is early and not early.is_mounted
        app._warm_up_when_idle()  # the timer's tick, before the screen's on_mount
        assert early.counts_sources == []
        assert not app._grader_requested  # its store is not open yet: the model waits
        await settle(pilot)


async def test_the_first_frame_has_the_size_classes(make_services, monkeypatch):
    """The breakpoint classes (``-narrow`` at 80 columns, ``-short`` at 24 rows…) are on Home
    in its first frame. Before, Textual set them on the screen's first Resize, after that
    frame: the frame was drawn without them (the footer's keys at their wide spacing), then
    the whole screen restyled and drawn again."""
    classes_at_frames: list[set[str]] = []
    display = LabdeckApp._display

    def recording(self, screen, renderable):
        display(self, screen, renderable)
        if renderable is not None and not self._batch_count:
            classes_at_frames.append(set(self.screen.classes))

    monkeypatch.setattr(LabdeckApp, "_display", recording)
    for size, wanted in (((80, 24), {"-narrow", "-short"}), ((120, 36), {"-wide", "-tall"})):
        classes_at_frames.clear()
        app = LabdeckApp(make_services(), load_grader=False)
        async with app.run_test(size=size) as pilot:
            home = app.screen
            await wait_for(pilot, lambda home=home: "store" in home.counts_sources)
            await settle(pilot)
            assert wanted <= set(home.classes)
        assert classes_at_frames and wanted <= classes_at_frames[0], classes_at_frames[:2]


async def test_resizes_to_the_size_drawn_do_not_lay_home_out_again(make_services, monkeypatch):
    """After its first frame Home gets three Resize events, all for the size it was just laid
    out and drawn at (the app's start-up resize, its idle check, the layout's own). Textual's
    handler laid the whole screen out and drew it again for each, before the worker could
    read the store's counts; now they change nothing. A real resize still lays it out (and
    re-cuts the labels: test_small_terminal)."""
    from textual.screen import Screen

    layouts: list[tuple[int, int]] = []  # Home laid out again for a Resize, after frame 1
    frames: list[int] = []
    screen_resized = Screen._screen_resized
    display = LabdeckApp._display

    def counting(self, size):
        if isinstance(self, HomeScreen) and frames:
            layouts.append(tuple(size))
        screen_resized(self, size)

    def recording(self, screen, renderable):
        display(self, screen, renderable)
        if renderable is not None and not self._batch_count:
            frames.append(1)

    monkeypatch.setattr(Screen, "_screen_resized", counting)
    monkeypatch.setattr(LabdeckApp, "_display", recording)
    app = LabdeckApp(make_services(), load_grader=False)
    async with app.run_test(size=(100, 32)) as pilot:
        home = app.screen
        await wait_for(pilot, lambda: "store" in home.counts_sources)
        await settle(pilot)
        assert layouts == []
        await pilot.resize_terminal(120, 36)
        await settle(pilot)
        assert (120, 36) in layouts and {"-wide", "-tall"} <= set(home.classes)

"""Issue 19.1 / 15.13: each step of a review reaches the screen in one frame. The frames the app
draws are watched (``App._display``, headless) while a real app, on a real store with the real
grader, opens Review, grades an answer and accepts it: the first frame that shows a step shows
all of it (the text, the grade panel scrolled into view, the footer's keys for that step), no
key repaints the whole screen, and opening the screen mounts its footer's keys once."""

from __future__ import annotations

import threading
from typing import Any

from textual.app import App
from textual.widgets._footer import FooterKey
from tuihelpers import SureGrader, settle, wait_for

from labdeck.tui.screens import review
from labdeck.tui.screens.review import AnswerBox, ReviewScreen
from labdeck.tui.widgets.steadyfooter import PALETTE, SteadyFooter

SMALL = (80, 24)
# long enough that at 80×24 the grade panel starts below the fold: the feedback scrolls
ANSWER = (
    "The encoder RNN reads the source tokens one at a time and compresses the whole input into "
    "its final hidden state, a fixed-length context vector. The decoder RNN starts from that "
    "vector and generates the output one token at a time, feeding back its previous token, "
    "so long inputs are squeezed through one vector and their early tokens fade."
)


class Watch:
    """The frames drawn (full-screen or partial), and what the screen showed at the first one
    drawn once ``ready()`` held."""

    def __init__(self, app: App[Any]) -> None:
        self.app = app
        self.kinds: list[str] = []
        self.ready: Any = None
        self.seen: dict[str, Any] | None = None
        original = app._display

        def display(screen, renderable):
            out = original(screen, renderable)
            if renderable is not None:
                self.kinds.append(type(renderable).__name__)
                if self.ready is not None and self.seen is None and self.ready():
                    self.seen = self.snapshot()
            return out

        app._display = display  # type: ignore[method-assign]

    def expect(self, ready) -> None:
        self.kinds, self.ready, self.seen = [], ready, None

    def snapshot(self) -> dict[str, Any]:
        screen = self.app.screen
        footer = screen.query_one(SteadyFooter)
        body = screen.query_one("#review-body")
        # (the command palette's key is hidden by the narrow screen's CSS: left out)
        return {
            "footer": [
                (k.key, k.action)
                for k in footer.query_children(FooterKey)
                if k.region and not k.has_class(PALETTE)
            ],
            "wanted": [w.slot for w in footer._wanted() if not w.palette],
            "keys": {id(k) for k in footer.query_children(FooterKey)},
            "scroll_y": body.scroll_y,
            "prompt": screen.query_one("#prompt").rendered,
            "grade_shown": screen.query_one("#grade").region.height > 0,
        }


def app_with_sure_grader(make_services, grader):
    from labdeck.tui.app import LabdeckApp

    services = make_services()
    services.reset_grader()
    services.grader_factory = lambda _settings: SureGrader(grader)
    services.load_grader()
    return LabdeckApp(services, load_grader=False)


async def test_opening_review_draws_the_card_and_its_footer_in_the_first_frame(
    make_services, grader, monkeypatch
) -> None:
    # however loaded the machine, the first frame waits for the card (the wait is bounded at
    # FIRST_CARD_WAIT in the app; here it is long enough never to run out)
    monkeypatch.setattr(review, "FIRST_CARD_WAIT", 60.0, raising=False)
    recomposed: list[str] = []  # the footer's recompositions (each mounts all its keys again)
    recompose = SteadyFooter.recompose

    async def counted(self):
        recomposed.append(type(self.screen).__name__)
        return await recompose(self)

    monkeypatch.setattr(SteadyFooter, "recompose", counted)
    app = app_with_sure_grader(make_services, grader)
    async with app.run_test(size=SMALL) as pilot:
        watch = Watch(app)
        await settle(pilot)
        watch.expect(lambda: isinstance(app.screen, ReviewScreen))
        await pilot.press("enter")
        screen = app.screen
        await wait_for(pilot, lambda: screen.phase == "answering")
        await settle(pilot)
        first = watch.seen
        assert first is not None
        assert first["prompt"] is not None  # the card's text, not an empty screen first
        assert first["footer"] == first["wanted"]  # the typing keys, in the first frame
        # the footer's keys were mounted with the screen, never mounted again
        assert first["keys"] == watch.snapshot()["keys"]
        assert recomposed == []


async def test_feedback_and_next_card_each_arrive_in_one_frame(make_services, grader) -> None:
    app = app_with_sure_grader(make_services, grader)
    async with app.run_test(size=SMALL) as pilot:
        watch = Watch(app)
        await settle(pilot)
        await pilot.press("enter")
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        await wait_for(pilot, lambda: screen.phase == "answering")
        await settle(pilot)

        screen.query_one("#answer", AnswerBox).insert(ANSWER)
        await settle(pilot)
        watch.expect(lambda: screen.phase == "rating")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: screen.phase == "rating", timeout=60)
        await settle(pilot)
        first, final = watch.seen, watch.snapshot()
        assert first is not None and first["grade_shown"]
        assert final["scroll_y"] > 0  # the grade panel needed the scroll ...
        assert first["scroll_y"] == final["scroll_y"]  # ... and it was in the first frame
        assert first["footer"] == first["wanted"] == final["wanted"]  # the rating keys
        assert "LayoutUpdate" not in watch.kinds  # no key repainted the whole screen

        card = screen.card
        watch.expect(lambda: screen.card is not card and screen.phase == "answering")
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen.card is not card and screen.phase == "answering")
        await settle(pilot)
        first, final = watch.seen, watch.snapshot()
        assert first is not None
        assert first["prompt"] is final["prompt"]  # the new card's text in its first frame
        assert first["scroll_y"] == final["scroll_y"] == 0
        assert first["footer"] == first["wanted"] == final["wanted"]  # the typing keys
        assert "LayoutUpdate" not in watch.kinds


async def test_the_model_loads_after_the_first_card_is_drawn(make_services, grader, monkeypatch):
    """Opening Review asks for the grading model (1-2 s of CPU holding the GIL), but only once
    the first card is on screen: asked while the screen was still being drawn, its load
    starved the first frame (the card text 0.77 s after Enter instead of 0.18 s)."""
    import labdeck.tui.app as app_module
    from labdeck.tui.app import LabdeckApp

    asked = threading.Event()

    def factory(_settings):
        asked.set()
        return grader

    services = make_services()
    services.reset_grader()
    services.grader_factory = factory
    monkeypatch.setattr(app_module, "IDLE_S", 3600.0)  # only the review screen asks for it
    monkeypatch.setattr(review, "FIRST_CARD_WAIT", 60.0, raising=False)
    app = LabdeckApp(services)  # loads the model itself, as the real app does
    async with app.run_test(size=SMALL) as pilot:
        watch = Watch(app)
        await wait_for(pilot, lambda: "store" in app.screen.counts_sources)
        asked_at_frame: list[bool] = []
        watch.expect(lambda: isinstance(app.screen, ReviewScreen) and app.screen.card is not None)
        original = watch.snapshot
        # the model neither loading nor asked for (LabdeckApp.ensure_grader_loading) yet
        watch.snapshot = lambda: (
            asked_at_frame.append(asked.is_set() or app._grader_wanted),
            original(),
        )[1]
        await pilot.press("enter")
        await wait_for(pilot, lambda: services.grader_ready, timeout=60)
        assert asked_at_frame == [False]  # the card was drawn before the model was asked for


class Gated:
    """The real grader, sure of each verdict, grading only once ``gate`` is set."""

    def __init__(self, grader) -> None:
        self.grader, self.gate = grader, threading.Event()

    def grade(self, *args, **kwargs):
        assert self.gate.wait(30), "the test never opened the gate"
        return SureGrader(self.grader).grade(*args, **kwargs)


async def test_the_grading_frame_lays_out_all_but_the_grade_and_nothing_is_drawn_after_it(
    make_services, grader
) -> None:
    """While the answer is graded the screen shows what does not depend on the grade (the
    read-only box, the grade panel saying so, the reference, the next intervals): the grade
    then only puts the panel's text in, in one frame, and no frame follows it (the focus
    events and the scroll bars were each drawn again a frame later)."""
    gated = Gated(grader)
    app = app_with_sure_grader(make_services, grader)
    app.services.grader_factory = lambda _settings: gated
    app.services.reset_grader()
    app.services.load_grader()
    async with app.run_test(size=SMALL) as pilot:
        watch = Watch(app)
        await settle(pilot)
        await pilot.press("enter")
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        await wait_for(pilot, lambda: screen.phase == "answering")
        await settle(pilot)
        screen.query_one("#answer", AnswerBox).insert(ANSWER)
        await settle(pilot)
        watch.expect(lambda: screen.phase == "grading")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: watch.seen is not None)
        for _ in range(3):
            await pilot.pause()
        assert screen.phase == "grading"
        assert screen.query_one("#answer", AnswerBox).read_only
        assert "Grading your answer" in str(screen.query_one("#grade").render())
        reference = screen.query_one("#reference")
        assert reference.display and reference.region.width > 0  # laid out already
        assert screen.query_one("#intervals").region.height > 0
        drawn: list[str] = []
        watch.expect(lambda: screen.phase == "rating")
        hook = app._display

        def display(s, renderable):
            out = hook(s, renderable)
            if renderable is not None and screen.phase == "rating":
                drawn.append(type(renderable).__name__)
            return out

        app._display = display  # type: ignore[method-assign]
        gated.gate.set()
        await wait_for(pilot, lambda: screen.phase == "rating", timeout=60)
        await settle(pilot)
        assert watch.seen is not None and watch.seen["grade_shown"]
        assert len(drawn) == 1, drawn  # the feedback's frame, and none after it


async def test_accepting_draws_the_next_card_in_one_frame_and_no_other(make_services, grader):
    app = app_with_sure_grader(make_services, grader)
    async with app.run_test(size=SMALL) as pilot:
        watch = Watch(app)
        await settle(pilot)
        await pilot.press("enter")
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        await wait_for(pilot, lambda: screen.phase == "answering")
        box = screen.query_one("#answer", AnswerBox)
        box.cursor_blink = False  # (a blinking cursor draws a frame every half second)
        box.insert(ANSWER)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: screen.phase == "rating", timeout=60)
        await settle(pilot)
        card = screen.card
        watch.expect(lambda: screen.card is not card and screen.phase == "answering")
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen.card is not card and screen.phase == "answering")
        await settle(pilot)
        assert watch.seen is not None
        # one frame: no "saving…" frame before the card, no focus or scroll-bar frame after
        assert len(watch.kinds) == 1, watch.kinds

"""The review screen's two waits, each as a ratio to its floor measured in the same run.

    python benchmarks/bench_review.py [--cards 6] [--size 80x24]

The real app runs headless on a fresh home (the shipped deck, the real grader loaded first),
and a learner's session is played: type an answer, ctrl+s, read the feedback, enter. Times
are taken from just before the key is sent to the last frame the screen paints before it goes
quiet (no frame for ``QUIET`` seconds, no worker running) — "settled", everything the key set
off drawn, the deferred scroll and the footer included:

* grade key → feedback settled, against the grading call itself (``Grader.grade`` timed
  inside the same press); goal ≤ 1.3×;
* accept → next card settled, against ``Scheduler.answer`` + ``Scheduler.next_card`` on the
  same store, timed alternately afterwards (each answer undone); goal ≤ 50 ms.

With each wait it reports when the result was first on screen ("shown": the first frame with
the new phase, the feedback or the next card, drawn), how many frames were drawn until settled,
the UI thread's CPU time over the wait (``time.thread_time``: on a loaded machine the wall
times grow with the load, the frames and the CPU much less), and the wait less its floor
("over floor": the grading runs beside the drawing of the "grading" frame, which makes the call
itself a little longer; this column shows what the screen adds in milliseconds).

The grader is the workspace's own, wrapped to time its calls and to be sure of each verdict
(so enter accepts the suggestion in one key). Drill cards are rated by reveal, not measured.
Prints a Markdown table; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if os.environ.get("LABDECK_BENCH_KEEP_PATH") != "1":  # set it to time another checkout
    sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

QUIET = 0.3  # seconds without a frame (and no worker running): the screen has settled
POLL = 0.01


class TimedGrader:
    """The real grader; each call's time kept, each verdict made sure."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.calls: list[float] = []

    def grade(self, *args, **kwargs):
        t = time.perf_counter()
        result = self.inner.grade(*args, **kwargs)
        self.calls.append(time.perf_counter() - t)
        return dataclasses.replace(result, sure=True)


class Frames:
    """Timestamps of the frames the app paints (headless: ``App._display`` still runs): the
    last one, how many, and the first drawn once ``ready()`` held (after the frame's update,
    the state it showed)."""

    def __init__(self, app) -> None:
        self.last = time.perf_counter()
        self.count = 0
        self.ready = None
        self.first_ready: float | None = None
        original = app._display

        def display(screen, renderable):
            out = original(screen, renderable)
            if renderable is not None:
                self.last = time.perf_counter()
                self.count += 1
                if self.ready is not None and self.first_ready is None and self.ready():
                    self.first_ready = self.last
            return out

        app._display = display


@dataclasses.dataclass
class Wait:
    settled: float  # seconds from the key to the last frame before the screen went quiet
    shown: float  # ... to the first frame drawn with ``ready()``
    frames: int  # frames drawn from the key until settled
    cpu: float  # the UI thread's CPU seconds from the key until settled


class Window:
    """One wait, from just before a key: ``start`` it, press, then ``await settled(...)``."""

    def __init__(self, frames: Frames, ready) -> None:
        self.frames, self.ready = frames, ready
        frames.ready, frames.first_ready = ready, None
        self.count = frames.count
        self.cpu = time.thread_time()
        self.t0 = time.perf_counter()

    async def settled(self, pilot, timeout: float = 60.0) -> Wait:
        """Wait for the screen to go quiet with ``ready()`` (no frame for ``QUIET`` s, no
        worker running)."""
        app, frames = pilot.app, self.frames
        while True:
            await asyncio.sleep(POLL)
            now = time.perf_counter()
            if now - self.t0 > timeout:
                raise RuntimeError("the screen did not settle")
            busy = any(not w.is_finished for w in app.workers if w.name != "_loader")
            if self.ready() and not busy and now - frames.last >= QUIET:
                cpu = time.thread_time() - self.cpu
                shown = frames.first_ready if frames.first_ready is not None else frames.last
                frames.ready = None
                return Wait(frames.last - self.t0, shown - self.t0, frames.count - self.count, cpu)


async def settled(pilot, frames: Frames, ready) -> Wait:
    """The screen settled with ``ready()`` (a wait not timed from a key)."""
    return await Window(frames, ready).settled(pilot)


def answer_for(card) -> str:
    """A plausible typed answer: the reference's first sentences, reworded a little."""
    text = (card.answer or card.prompt).replace("\n", " ")
    return text[:260].rsplit(" ", 1)[0].replace(" the ", " a ")


async def session(home: Path, cards: int, size: tuple[int, int]) -> dict[str, list[float]]:
    from labdeck.config import load_settings
    from labdeck.tui.app import LabdeckApp
    from labdeck.tui.screens.review import ReviewScreen
    from labdeck.tui.services import Services

    services: Services | None = None

    def factory(_settings):
        assert services is not None
        return TimedGrader(services.workspace.grader())

    services = Services(home=home, settings=load_settings(home), grader_factory=factory)
    _ = services.store  # migrate and load the shipped deck before the clock starts
    services.load_grader()
    grader = services.wait_grader()
    out: dict[str, list] = {"grade": [], "grading": [], "accept": []}
    app = LabdeckApp(services, load_grader=False)
    async with app.run_test(size=size) as pilot:
        frames = Frames(app)
        await pilot.pause()
        await pilot.press("enter")  # home: study all decks
        screen = app.screen
        while not (isinstance(screen, ReviewScreen) and screen.phase == "answering"):
            await asyncio.sleep(POLL)
            screen = app.screen
        box = screen.query_one("#answer")
        box.cursor_blink = False  # a blinking cursor paints a frame every half second
        measured = 0
        while measured < cards:
            await settled(pilot, frames, lambda: screen.phase == "answering")
            card = screen.card
            if card is None:
                break
            if card.card_type != "essay" or not card.answer:
                await pilot.press("escape", "space")
                await settled(pilot, frames, lambda: screen.phase == "rating")
                await pilot.press("4")
                continue
            box.insert(answer_for(card))
            await pilot.pause()
            calls = len(grader.calls)
            window = Window(frames, lambda: screen.phase == "rating")
            await pilot.press("ctrl+s")
            out["grade"].append(await window.settled(pilot))
            out["grading"].append(sum(grader.calls[calls:]))
            key = card.card_id
            window = Window(
                frames,
                lambda k=key: (
                    screen.phase == "answering"
                    and screen.card is not None
                    and screen.card.card_id != k
                ),
            )
            await pilot.press("enter")
            out["accept"].append(await window.settled(pilot))
            measured += 1
    services.close()
    return out


def answer_floor(home: Path, runs: int) -> float:
    """``answer()`` + ``next_card()`` on the session's store, each answer undone."""
    from labdeck.workspace import Workspace

    workspace = Workspace(home, report=lambda _m: None)
    scheduler = workspace.scheduler()
    times = []
    for _ in range(runs):
        entry = scheduler.next_card()
        if entry is None:
            break
        t = time.perf_counter()
        scheduler.answer(entry.card_id, 4, answer="bench", duration_ms=1)
        scheduler.next_card()
        times.append(time.perf_counter() - t)
        scheduler.undo()
    workspace.close()
    return statistics.median(times)


def measure(cards: int, size: tuple[int, int] = (80, 24)) -> dict[str, float]:
    """Medians of one played session on a fresh home: the two waits and their floors."""
    with tempfile.TemporaryDirectory(prefix="labdeck-bench-review-") as tmp:
        home = Path(tmp)
        before = os.environ.get("LABDECK_HOME")
        os.environ["LABDECK_HOME"] = str(home)
        try:
            out = asyncio.run(session(home, cards, size))
            floor = answer_floor(home, max(5, cards))
        finally:
            if before is None:
                os.environ.pop("LABDECK_HOME", None)
            else:
                os.environ["LABDECK_HOME"] = before
    grades, accepts = out["grade"], out["accept"]
    ratios = [g.settled / c for g, c in zip(grades, out["grading"], strict=True)]
    shown = [g.shown / c for g, c in zip(grades, out["grading"], strict=True)]
    med = statistics.median
    return {
        "cards": len(grades),
        "grade": med(g.settled for g in grades),
        "grading": med(out["grading"]),
        "grade_ratio": med(ratios),
        "grade_over": med(g.settled - c for g, c in zip(grades, out["grading"], strict=True)),
        "grade_shown": med(g.shown for g in grades),
        "grade_shown_ratio": med(shown),
        "grade_frames": med(g.frames for g in grades),
        "grade_cpu": med(g.cpu for g in grades),
        "accept": med(a.settled for a in accepts),
        "accept_shown": med(a.shown for a in accepts),
        "accept_frames": med(a.frames for a in accepts),
        "accept_cpu": med(a.cpu for a in accepts),
        "answer_next": floor,
    }


def rows(cards: int) -> list[tuple[str, str, float, float, str, str, str]]:
    """The two rows in ``bench_all``'s table format (the last field: the unit, seconds)."""
    m = measure(cards)
    return [
        (
            "grade key → feedback settled",
            "shipped",
            m["grade"],
            m["grading"],
            "the grading call",
            "≤ 1.3×",
            "s",
        ),
        (
            "accept → next card settled",
            "shipped",
            m["accept"],
            m["answer_next"],
            "`answer()` + `next_card()`",
            "≤ 50 ms",
            "s",
        ),
    ]


def fmt(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds >= 0.01 else f"{seconds * 1000:.1f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=6, help="essay cards graded and accepted")
    parser.add_argument("--size", default="80x24", help="terminal size, WxH")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    m = measure(args.cards, (width, height))
    print(f"{m['cards']} essay cards at {width}×{height}, medians")
    print()
    print(
        "| what | time | floor | floor time | ratio | goal | shown | frames | UI CPU | over floor |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    print(
        f"| grade key → feedback settled | {fmt(m['grade'])} | the grading call | "
        f"{fmt(m['grading'])} | {m['grade_ratio']:.2f}× | ≤ 1.3× | "
        f"{fmt(m['grade_shown'])} ({m['grade_shown_ratio']:.2f}×) | {m['grade_frames']:.0f} | "
        f"{fmt(m['grade_cpu'])} | {fmt(m['grade_over'])} |"
    )
    print(
        f"| accept → next card settled | {fmt(m['accept'])} | `answer()` + `next_card()` | "
        f"{fmt(m['answer_next'])} | {m['accept'] / m['answer_next']:.1f}× | ≤ 50 ms | "
        f"{fmt(m['accept_shown'])} | {m['accept_frames']:.0f} | {fmt(m['accept_cpu'])} | "
        f"{fmt(m['accept'] - m['answer_next'])} |"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Start-up and responsiveness of the TUI, as ratios to a hello-world Textual app.

Each run is a fresh ``python`` process on a prepared home (migrated, shipped deck loaded, so no
first-run work is measured), running the app headless at 120x36. Every figure is the moment a
*frame* showing the thing was drawn (``App._display`` is wrapped in the child, for both apps),
not when a widget was mounted or a value computed:

* ``mounted``     process spawn → the home screen's first frame;
* ``footer``      process spawn → the first frame with the footer's keys (Textual's ``Footer``
  composes its keys once the bindings are known, after the first refresh: a frame later);
* ``interactive`` process spawn → the first frame with the deck counts (today's summary);
* ``card``        Enter on Home → the first frame with the review card's text;
* ``feedback``    ctrl+s on a typed answer → the frame with the grade (model loaded first);
* ``next``        the rating key (``=`` then ``3``) → the frame with the next card;
* ``browse``      ``b`` on Home → the frame with Browse's table filled, and the UI thread's own
  CPU time over that span (``time.thread_time``: what the app did, whatever else ran);
* whether torch / sentence-transformers were imported by the first frame (they must not be);
* the child's CPU time (``time.process_time``, every thread) at the first frame and at the
  store's counts, against hello-world's at its first frame: on a loaded machine the wall-clock
  ratios swing by ±0.4× between runs, the CPU ones by a few hundredths.

The floor is a hello-world Textual app timed the same way in the same run, alternated with
labdeck so both see the same machine load: spawn → its first frame, spawn → its one Static
drawn (stands for the counts), and a key → the frame with its Static updated (stands for each
action). It asserts nothing; it prints the table the README shows (goals: first frame ≤ 1.5×,
counts ≤ 2× the floor; each action ≤ 100 ms).

With ``--warm`` the keys are pressed once the idle warm-up (the screens' modules imported,
the grading model loaded) is done, as after a learner has looked at Home for a moment;
without it 0.3 s after the counts, while nothing is warm.

With ``--bytecode`` the children may write and read labdeck's bytecode, as an installed labdeck
runs; without it they inherit ``PYTHONDONTWRITEBYTECODE`` (when set, every labdeck module is
compiled on every start: hello-world imports none of them). Each labdeck run is preceded by a
new day's first start (the snapshot of Home removed, so its first counts come from the store).

    python benchmarks/bench_startup.py [--runs 5] [--warm] [--bytecode]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

# Both children start with this: the frame hook and the helpers that wait on it.
HOOK = r"""
import asyncio, json, sys, time
t_spawned = time.time()
from textual.app import App

MARKS = {"imported": t_spawned}
CPU = {}  # the child's CPU time (all threads) at each mark: steadier than wall time under load
THREAD = {}  # the main (UI) thread's own CPU time at each mark (frames are drawn on it)
WAITING = {}

_display = App._display

def _hooked(self, screen, renderable):
    _display(self, screen, renderable)
    if renderable is None or self._batch_count:
        return
    now = time.time()
    for name, ready in list(WAITING.items()):
        try:
            done = ready()
        except Exception:
            done = False
        if done:
            MARKS[name] = now
            CPU[name] = time.process_time()
            THREAD[name] = time.thread_time()
            del WAITING[name]

App._display = _hooked

async def drawn(name, ready=None, timeout=60.0):
    # the first frame drawn once ready() holds (registered here unless None)
    if ready is not None:
        WAITING[name] = ready
    end = time.time() + timeout
    while name in WAITING:
        if time.time() > end:
            raise SystemExit(f"timed out waiting for {name}")
        await asyncio.sleep(0.01)  # coarse: the frame hook takes the time, not this loop

async def after(pilot, name, keys, ready):
    # seconds from pressing the keys to the first frame drawn once ready() holds
    WAITING[name] = ready
    t, cpu = time.time(), time.thread_time()
    await pilot.press(*keys)
    await drawn(name)
    MARKS[name] -= t
    THREAD[name] -= cpu
"""

CHILD = (
    HOOK
    + r"""
from labdeck.tui.app import LabdeckApp, close_services
from labdeck.tui.screens.home import HomeScreen
from labdeck.tui.services import Services

HEAVY = ("torch", "sentence_transformers", "transformers")
WARM = bool(int(sys.argv[1])) if len(sys.argv) > 1 else False

def grader_loaded(services):
    try:
        services.wait_grader(120)
    except RuntimeError:
        return False
    return True

def text_of(screen, selector):
    return str(screen.query_one(selector).render()).strip()

async def main():
    MARKS["imported"] = time.time()
    services = Services.open(None)
    app = LabdeckApp(services)
    MARKS["opened"] = time.time()
    home = lambda: isinstance(app.screen, HomeScreen)
    WAITING["mounted"] = home
    WAITING["footer"] = lambda: home() and len(app.screen.query("FooterKey")) > 0
    WAITING["interactive"] = lambda: home() and text_of(app.screen, "#today")
    WAITING["from_store"] = lambda: home() and "store" in app.screen.counts_sources
    async with app.run_test(size=(120, 36)) as pilot:
        await drawn("mounted")
        MARKS["torch_at_mount"] = any(m in sys.modules for m in HEAVY)
        await drawn("interactive")
        MARKS["heavy_at_interactive"] = sorted(m for m in HEAVY if m in sys.modules)
        MARKS["source"] = app.screen.counts_sources[0]
        await drawn("from_store")
        await drawn("footer")
        await pilot.pause(0.3)  # the chapters' rows and the start-up chores settle
        if WARM:  # --warm: the learner looked at Home until the idle warm-up was done
            await asyncio.to_thread(grader_loaded, services)
            # ... and the rest of it (a tree before `warmed_up`: its warm-up worker ended)
            while not getattr(app, "warmed_up", app._grader_requested and all(
                    w.is_finished for w in app.workers)):
                await asyncio.sleep(0.01)
            await pilot.pause(0.1)

        await after(pilot, "browse", ["b"],
                    lambda: type(app.screen).__name__ == "BrowseScreen"
                    and app.screen.query_one("#browse-table").row_count > 0)
        await app.pop_screen()
        await drawn("home_again", home)

        review = lambda: type(app.screen).__name__ == "ReviewScreen"
        await after(pilot, "card", ["enter"],
                    lambda: review() and app.screen.card is not None
                    and app.screen.phase == "answering")
        screen = app.screen
        MARKS["card_type"] = screen.card.card_type
        if not await asyncio.to_thread(grader_loaded, services):
            MARKS["feedback"] = None
        else:
            box = screen.query_one("#answer")
            box.text = screen.card.answer or "softmax of scaled dot products"
            await pilot.pause()
            await after(pilot, "feedback", ["ctrl+s"], lambda: screen.phase == "rating")
        if screen.phase == "rating":
            await pilot.press("equals_sign")
            first = screen.card
            await after(pilot, "next", ["3"],
                        lambda: screen.card is not first and screen.phase == "answering")
        else:
            MARKS["next"] = None
    close_services(services)  # as `labdeck` ends a session (the next run's snapshot)
    MARKS["cpu"] = CPU
    MARKS["thread"] = THREAD
    print("BENCH " + json.dumps(MARKS))

asyncio.run(main())
"""
)

HELLO = (
    HOOK
    + r"""
from textual.widgets import Static

class Hello(App):
    BINDINGS = [("x", "press", "Press")]
    presses = 0

    def compose(self):
        yield Static("hello, world", id="today")

    def action_press(self):
        self.presses += 1
        self.query_one("#today", Static).update(f"pressed {self.presses}")

async def main():
    MARKS["imported"] = time.time()
    app = Hello()
    MARKS["opened"] = time.time()
    WAITING["mounted"] = lambda: app.screen.is_mounted
    WAITING["interactive"] = lambda: str(app.query_one("#today").render()).strip()
    async with app.run_test(size=(120, 36)) as pilot:
        await drawn("mounted")
        MARKS["torch_at_mount"] = False
        await drawn("interactive")
        MARKS["heavy_at_interactive"] = []
        await pilot.pause(0.3)
        await after(pilot, "key", ["x"], lambda: str(app.query_one("#today").render()) == "pressed 1")
    MARKS["cpu"] = CPU
    MARKS["thread"] = THREAD
    print("BENCH " + json.dumps(MARKS))

asyncio.run(main())
"""
)

ACTIONS = ("card", "feedback", "next", "browse")
BYTECODE = False  # --bytecode


def prepare(home: str) -> None:
    """First run: migrate and load the shipped deck, so the timed runs see a warm home."""
    env = dict(os.environ, LABDECK_HOME=home)
    subprocess.run(
        [
            sys.executable,
            "-c",
            "from labdeck.tui.services import Services; Services.open(None).store.close()",
        ],
        env=env,
        check=True,
    )


def one_run(home: str, child: str = CHILD, *, warm: bool = False) -> dict:
    env = dict(os.environ, LABDECK_HOME=home)
    if BYTECODE:  # --bytecode: as an installed labdeck runs (its first run writes them)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("LABDECK_NOW", None)
    start = time.time()
    out = subprocess.run(
        [sys.executable, "-c", child, str(int(warm))],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    line = next((x for x in out.stdout.splitlines() if x.startswith("BENCH ")), None)
    if line is None:
        raise SystemExit(f"benchmark child failed:\n{out.stdout}\n{out.stderr}")
    marks = json.loads(line[6:])
    run = {
        "imported": marks["imported"] - start,
        "store_open": marks["opened"] - marks["imported"],
        "mounted": marks["mounted"] - start,
        "footer": marks.get("footer", marks["mounted"]) - start,
        "interactive": marks["interactive"] - start,
        "from_store": marks.get("from_store", marks["interactive"]) - start,
        "source": marks.get("source"),
        "torch_at_mount": marks["torch_at_mount"],
        "heavy_at_interactive": marks["heavy_at_interactive"],
    }
    for key in (*ACTIONS, "key", "card_type"):
        if key in marks:
            run[key] = marks[key]
    for key in ("mounted", "interactive", "from_store"):
        if key in marks["cpu"]:
            run[f"cpu_{key}"] = marks["cpu"][key]
    for key in ("browse", "key"):  # an action's CPU on the UI thread, key → frame
        if key in marks.get("thread", {}):
            run[f"thread_{key}"] = marks["thread"][key]
    return run


def new_day_run(home: str) -> dict:
    """A learner's first start of a study day: the last session's snapshot of Home is for
    another day (here: removed), so the first counts come from the store. Only the start-up
    marks are kept (its actions repeat the ordinary run's)."""
    with contextlib.suppress(FileNotFoundError):
        os.remove(os.path.join(home, "home-view.json"))
    run = one_run(home)
    marks = {"newday_mounted": run["mounted"], "newday_from_store": run["from_store"]}
    if "cpu_from_store" in run:
        marks["cpu_newday_from_store"] = run["cpu_from_store"]
    marks["newday_source"] = run["source"]
    return marks


def measure(home: str, runs: int, *, warm: bool = False) -> tuple[list[dict], list[dict]]:
    """(labdeck runs, hello-world runs), alternated; ``home`` must be prepared. With ``warm``
    the actions start once the idle warm-up (screens imported, model loaded) is done. Each
    labdeck run is a start with the last session's snapshot valid (same day, same file) and,
    before it, a new day's first start (``new_day_run``)."""
    one_run(home, HELLO)  # warm the file cache for both
    one_run(home)
    app, hello = [], []
    for _ in range(runs):
        first = new_day_run(home)
        app.append({**one_run(home, warm=warm), **first})
        hello.append(one_run(home, HELLO))
    return app, hello


def median(runs: list[dict], key: str) -> float:
    """The median of ``key`` over the runs that measured it (NaN when none did)."""
    values = [r[key] for r in runs if r.get(key) is not None]
    return statistics.median(values) if values else float("nan")


# (row, labdeck's key, hello-world's key, goal as a ratio, goal in seconds after the action)
ROWS = (
    ("first frame (spawn →)", "mounted", "mounted", 1.5, None),
    ("… with the footer's keys (spawn →)", "footer", "mounted", None, None),
    ("deck counts on screen (spawn →)", "interactive", "interactive", 2.0, None),
    ("counts read from the store (spawn →)", "from_store", "interactive", None, None),
    ("new day: counts from the store (spawn →)", "newday_from_store", "interactive", 2.0, None),
    ("first frame, the process's CPU time", "cpu_mounted", "cpu_mounted", 1.5, None),
    ("counts from the store, CPU time", "cpu_from_store", "cpu_interactive", None, None),
    ("new day: counts from the store, CPU", "cpu_newday_from_store", "cpu_interactive", 2.0, None),
    ("review card text (Enter →)", "card", "key", None, 0.1),
    ("Browse open, table filled (b →)", "browse", "key", None, 0.1),
    ("… the UI thread's CPU time (b →)", "thread_browse", "thread_key", None, None),
    ("grade key → feedback (ctrl+s →)", "feedback", "key", None, None),
    ("rate → next card (= 3 →)", "next", "key", None, 0.1),
)


def table(runs: list[dict], hello: list[dict]) -> list[str]:
    """The README's start-up table (markdown)."""
    lines = [
        "| what | labdeck | hello-world Textual, same run | ratio | goal |",
        "|---|---|---|---|---|",
    ]
    for what, key, floor_key, ratio_goal, seconds_goal in ROWS:
        app, floor = median(runs, key), median(hello, floor_key)
        floor_what = "its first frame" if floor_key.endswith("mounted") else "its Static drawn"
        if floor_key in ("key", "thread_key"):
            floor_what = "key → Static updated"
        goal = f"≤ {ratio_goal}×" if ratio_goal else ""
        if seconds_goal:
            goal = f"≤ {seconds_goal * 1000:.0f} ms"
        lines.append(
            f"| {what} | {app * 1000:.0f} ms | {floor_what} {floor * 1000:.0f} ms "
            f"| {app / floor:.2f}× | {goal} |"
        )
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--warm",
        action="store_true",
        help="press the keys once the idle warm-up is done (default: 0.3 s after the counts)",
    )
    parser.add_argument(
        "--bytecode",
        action="store_true",
        help="let the children write and read labdeck's bytecode, as an installed labdeck "
        "runs (by default they inherit PYTHONDONTWRITEBYTECODE, if set: every labdeck module "
        "is compiled on every start)",
    )
    args = parser.parse_args()
    global BYTECODE
    BYTECODE = args.bytecode
    with tempfile.TemporaryDirectory(prefix="labdeck-bench-") as home:
        prepare(home)
        runs, hello = measure(home, args.runs, warm=args.warm)
    when = "after the idle warm-up" if args.warm else "0.3 s after the counts"
    compiled = os.environ.get("PYTHONDONTWRITEBYTECODE") and not args.bytecode
    print(f"(labdeck {'compiled from source on every start' if compiled else 'from bytecode'})")
    print(f"labdeck start-up, {args.runs} runs (seconds; spawn-relative or after the action):")
    print(f"  actions {when}")
    keys = ("imported", "store_open", "mounted", "footer", "interactive", "from_store")
    keys += ("newday_mounted", "newday_from_store")
    for key in (*keys, *ACTIONS, "thread_browse"):
        values = [r[key] for r in runs if r.get(key) is not None]
        if values:
            print(
                f"  {key:<13} median {statistics.median(values):.3f}  "
                f"min {min(values):.3f}  max {max(values):.3f}"
            )
    sources = [r["source"] for r in runs]
    print(f"  first counts shown from: {', '.join(str(s) for s in sources)}")
    new_day = [r.get("newday_source") for r in runs]
    print(f"  … on a new day's first start: {', '.join(str(s) for s in new_day)}")
    kinds = sorted({r.get("card_type", "?") for r in runs})
    print(f"  cards graded: {', '.join(kinds)}")
    heavy = sorted({m for r in runs for m in r["heavy_at_interactive"]})
    print(f"  torch imported by the first frame: {any(r['torch_at_mount'] for r in runs)}")
    print(f"  heavy modules loaded by the counts: {heavy or 'none'}")
    print()
    print("\n".join(table(runs, hello)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

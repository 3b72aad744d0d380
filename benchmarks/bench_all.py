"""Every row of the performance table, each as a ratio to a floor measured in the same run.

    python benchmarks/bench_all.py [--sizes 1000,100000,1000000] [--runs 7] [--no-grading]

On a shared machine absolute times swing with the load; a ratio to a floor timed alternately
with it, in the same run, does not swing as much. The rows and their floors:

* home counts (``Scheduler.overview``: the decks' rows, which the home screen shows first, and
  then with the chapters' rows) and today's queue (``Scheduler.queue``), at each size:
  the queue's core SQL, the first reviews-per-day due cards from ``ix_card_state_queue``;
* answer + next card (``answer`` then ``next_card``; undone afterwards): one committed one-row
  ``UPDATE`` on the same file through ``sqlite3``;
* ``labdeck due`` end to end: a process that only imports sqlalchemy;
* TUI first frame and counts on screen (``bench_startup``): a hello-world Textual app timed
  the same way;
* review: grade key → feedback settled and accept → next card settled (``bench_review``): the
  grading call timed inside the same press, and ``answer`` + ``next_card``;
* grading model load in a fresh process (warm-start cache warmed first): importing numpy;
* one answer graded (5 key points, references cached): the embedding calls it makes;
* the embedding-cache write of a 50-question exam (``DbEmbeddingCache.put``, 300 vectors): the
  same rows by one ``sqlite3`` ``executemany``;
* a cached vector's bytes on disk (its row, page share and key index, from ``db check``'s size
  report): the vector's float32 values (4 bytes a dimension);
* demo key → first progress line (``DemoProcess`` built and started, to its first ``progress``
  event; attention, quick preset), from a warm child (``runner.prewarm``, waited on until it
  sits reading its stdin) and cold: the cold start, and a fresh process importing torch.

Databases are built once by ``bench_srs.build`` (a migrated store, bulk ``INSERT … SELECT``)
and kept in ``$TMPDIR/labdeck-bench-cache`` for reruns, one folder per build version and schema
head (a checkout at another revision never opens, or migrates, another's). Prints a Markdown
table.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import NamedTuple

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_grading  # noqa: E402  (also puts the project's src/ first on sys.path)
import bench_review  # noqa: E402
import bench_srs  # noqa: E402
import bench_startup  # noqa: E402

CACHE = Path(tempfile.gettempdir()) / "labdeck-bench-cache"
BUILD_VERSION = "1"  # bump when bench_srs.build changes what it builds


class Row(NamedTuple):
    """One row of the table: a measure and the floor it is divided by."""

    what: str
    size: str  # the deck's size, or what was measured ("shipped", "attention", …)
    value: float
    floor: float
    floor_name: str
    goal: str
    unit: str = "s"  # "s" (seconds) or "B" (bytes)


def as_rows(block: Iterable[tuple[object, ...]], source: str) -> list[Row]:
    """Another script's rows as ``Row``s, checked when they arrive (not at print time, after
    every benchmark has run): 6 fields (seconds) or 7, a known unit."""
    rows = []
    for raw in block:
        if len(raw) not in (6, 7):
            raise SystemExit(f"{source}: a row has {len(raw)} fields, not 6 or 7: {raw!r}")
        row = Row(*raw)  # type: ignore[arg-type]
        if row.unit not in ("s", "B"):
            raise SystemExit(f"{source}: unknown unit {row.unit!r} in {raw!r}")
        rows.append(row)
    return rows


def median_of(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def alternate(a: Callable[[], object], b: Callable[[], object], runs: int) -> tuple[float, float]:
    """Medians of ``a`` and ``b`` timed alternately (so both see the same load)."""
    ta, tb = [], []
    for _ in range(runs):
        ta.append(median_of(a, 1))
        tb.append(median_of(b, 1))
    return statistics.median(ta), statistics.median(tb)


def home_for(cards: int) -> Path:
    """A built store with ``cards`` cards and as many log rows, cached between runs."""
    from labdeck.store.db import head_revision

    home = CACHE / f"cards-{cards}-v{BUILD_VERSION}-r{head_revision()}"
    marker = home / f"built-v{BUILD_VERSION}"
    if not marker.exists():
        if home.exists():
            for f in home.iterdir():
                f.unlink()
        home.mkdir(parents=True, exist_ok=True)
        t = time.perf_counter()
        bench_srs.build(home, cards, max(cards, 1000))
        print(f"built {cards:,} cards in {time.perf_counter() - t:.0f} s ({home})", file=sys.stderr)
        marker.touch()
    return home


def srs_rows(cards: int, runs: int) -> list[Row]:
    from sqlalchemy import text

    from labdeck.config import Settings
    from labdeck.srs.scheduler import Scheduler
    from labdeck.store import open_store

    home = home_for(cards)
    size = f"{cards:,}"
    os.environ["LABDECK_HOME"] = str(home)
    store = open_store(home)
    settings = Settings()
    sched = Scheduler(store, settings, now=lambda: bench_srs.NOW)
    day = bench_srs.TODAY.isoformat()

    def core_sql() -> None:
        with store.engine.connect() as conn:
            conn.exec_driver_sql("BEGIN")
            conn.execute(
                text(
                    "SELECT card_id, due FROM card_state WHERE suspended = 0 AND due <= :day "
                    "ORDER BY due, card_id LIMIT :n"
                ),
                {"day": day, "n": settings.reviews_per_day},
            ).all()
            conn.rollback()

    sched.overview(), sched.queue(), core_sql()  # warm the caches
    counts, floor = alternate(sched.overview, core_sql, runs)
    decks, floor_d = alternate(lambda: sched.overview(chapters=False), core_sql, runs)
    queue, floor_q = alternate(sched.queue, core_sql, runs)

    targets = iter([e.card_id for e in sched.queue() if e.kind != "redrill"])
    raw = sqlite3.connect(home / "labdeck.db", isolation_level=None)
    raw.execute("PRAGMA synchronous=NORMAL")

    def answer_next() -> None:
        sched.answer(next(targets), 4, answer="bench", duration_ms=1)
        sched.next_card()

    def one_write() -> None:
        raw.execute("BEGIN IMMEDIATE")
        raw.execute("UPDATE card_state SET reviews = reviews WHERE card_id = 1")
        raw.execute("COMMIT")

    n_answers = min(runs, 5)
    answer, write = alternate(answer_next, one_write, n_answers)
    for _ in range(n_answers):
        sched.undo()
    raw.close()
    store.close()

    env = {**os.environ, "LABDECK_NO_CONTENT": "1", "LABDECK_NOW": bench_srs.NOW.isoformat()}
    # as an installed labdeck runs: from its bytecode (written by the first run), not compiling
    # every module on every start as PYTHONDONTWRITEBYTECODE=1 does to an editable checkout
    # (the floor's sqlalchemy is bytecode either way)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    cmd = bench_srs.labdeck_command()

    def due() -> None:
        subprocess.run([*cmd, "due"], env=env, check=True, capture_output=True)

    def bare() -> None:
        subprocess.run([sys.executable, "-c", "import sqlalchemy"], env=env, check=True)

    due(), bare()
    due_t, bare_t = alternate(due, bare, runs)
    core = "queue's core SQL"
    return [
        Row("home counts, decks (shown first)", size, decks, floor_d, core, "≤ 20 ms"),
        Row("home counts, decks and chapters", size, counts, floor, core, "≤ 20 ms"),
        Row("today's queue (`queue()`)", size, queue, floor_q, core, ""),
        Row("answer + next card", size, answer, write, "one-row commit", ""),
        Row("`labdeck due`, end to end", size, due_t, bare_t, "`import sqlalchemy`", "≤ 1.2×"),
    ]


HELLO = "hello-world Textual"


def startup_rows(runs: int) -> list[Row]:
    with tempfile.TemporaryDirectory(prefix="labdeck-bench-") as home:
        bench_startup.prepare(home)
        app, hello = bench_startup.measure(home, runs)
    med = bench_startup.median
    return [
        Row(
            "TUI first frame",
            "shipped",
            med(app, "mounted"),
            med(hello, "mounted"),
            HELLO,
            "≤ 1.5×",
            "s",
        ),
        Row(
            "TUI counts on screen (last session's, still valid)",
            "shipped",
            med(app, "interactive"),
            med(hello, "interactive"),
            HELLO,
            "≤ 2×",
            "s",
        ),
        Row(
            "TUI counts read from the store",
            "shipped",
            med(app, "from_store"),
            med(hello, "interactive"),
            HELLO,
            "",
            "s",
        ),
    ]


LOAD = (
    "import time; t = time.perf_counter(); from labdeck.grading.embedder import load_embedder; "
    "load_embedder('use'); print(time.perf_counter() - t)"
)
NUMPY = "import time; t = time.perf_counter(); import numpy; print(time.perf_counter() - t)"


class _TimedEmbedder:
    """The real embedder, with the time spent in its ``encode`` calls added up."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.model_id = inner.model_id
        self.spent = 0.0

    def encode(self, texts: list[str]):
        t = time.perf_counter()
        try:
            return self.inner.encode(texts)
        finally:
            self.spent += time.perf_counter() - t


def grading_rows(runs: int) -> list[Row]:
    import numpy as np

    from labdeck.grading.dbcache import DbEmbeddingCache, encode_vector
    from labdeck.grading.embedder import load_embedder
    from labdeck.grading.grader import Grader
    from labdeck.store import open_store
    from labdeck.store.sizes import size_report

    env = {**os.environ, "LABDECK_CACHE": str(CACHE / "model")}

    def child(code: str) -> float:
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True
        )
        return float(out.stdout.strip().splitlines()[-1])

    child(LOAD)  # fills the warm-start cache
    loads, numpys = [], []
    for _ in range(max(3, runs // 2)):
        loads.append(child(LOAD))
        numpys.append(child(NUMPY))
    rows: list[Row] = [
        Row(
            "grading model load (warm-start cache)",
            "",
            statistics.median(loads),
            statistics.median(numpys),
            "`import numpy`",
            "",
            "s",
        )
    ]

    embedder = _TimedEmbedder(load_embedder("use", threads=1))
    grader = Grader(embedder)
    grader.grade(bench_grading.REFERENCE, "warm up", bench_grading.KEY_POINTS)
    totals, encodes = [], []
    for i in range(runs * 3):
        answer = f"{bench_grading.ANSWERS[i % len(bench_grading.ANSWERS)]} ({i})"
        embedder.spent = 0.0
        t = time.perf_counter()
        grader.grade(bench_grading.REFERENCE, answer, bench_grading.KEY_POINTS)
        totals.append(time.perf_counter() - t)
        encodes.append(embedder.spent)
    rows.append(
        Row(
            "one answer graded, 5 key points",
            "",
            statistics.median(totals),
            statistics.median(encodes),
            "its embedding calls",
            "",
            "s",
        )
    )

    rng = np.random.default_rng(3)
    with tempfile.TemporaryDirectory(prefix="labdeck-bench-") as home:
        store = open_store(Path(home))
        cache = DbEmbeddingCache(store)
        raw = sqlite3.connect(store.path)
        puts, floors = [], []
        for run in range(runs):
            vectors = {
                f"exam {run} question {q} text {k}": rng.standard_normal(512).astype(np.float32)
                for q in range(50)
                for k in range(6)
            }
            cache.memory = type(cache.memory)()
            t = time.perf_counter()
            cache.put(embedder.model_id, vectors)
            puts.append(time.perf_counter() - t)
            rows_raw = [
                ("floor", f"{run}-{i}", 512, encode_vector(v), "2026-01-01 00:00:00.000000")
                for i, v in enumerate(vectors.values())
            ]
            t = time.perf_counter()
            with raw:
                raw.executemany(
                    "INSERT OR REPLACE INTO embedding_cache (model_id, text_hash, dim, vector, "
                    "created_at) VALUES (?, ?, ?, ?, ?)",
                    rows_raw,
                )
            floors.append(time.perf_counter() - t)
        assert cache.errors == 0, "the embedding cache failed to write"
        raw.execute("DELETE FROM embedding_cache WHERE model_id = 'floor'")
        raw.commit()
        raw.execute("VACUUM")
        raw.close()
        store.close()
        sizes = size_report(store.path)
    rows.append(
        Row(
            "embedding-cache write, 50-question exam",
            "",
            statistics.median(puts),
            statistics.median(floors),
            "same rows, one executemany",
            "",
            "s",
        )
    )
    rows.append(
        Row(
            "a cached vector on disk (512-d)",
            f"{sizes.vectors:,} vectors",
            sizes.vector_on_disk or 0.0,
            4.0 * 512,
            "its float32 values",
            "several a page",
            "B",
        )
    )
    return rows


def _waiting_on_stdin(pid: int) -> bool:
    try:
        return "pipe" in Path(f"/proc/{pid}/wchan").read_text()
    except OSError:
        return False


def demo_rows(runs: int) -> list[Row]:
    """Demo key → first progress line, warm and cold, alternately."""
    from labdeck.demos import runner

    def first_progress() -> tuple[float, bool]:
        t = time.perf_counter()
        proc = runner.DemoProcess("attention", device="cpu", preset="quick", timeout=240)
        proc.start()
        for event in proc.events():
            if event.get("type") == "progress":
                elapsed = time.perf_counter() - t
                break
        else:
            raise RuntimeError(f"attention gave no progress event: {proc.outcome}")
        proc.cancel()
        proc.wait()
        return elapsed, proc.warm

    def torch_import() -> float:
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import torch"], check=True)
        return time.perf_counter() - t

    warm_t, cold_t, torch_t = [], [], []
    for _ in range(max(3, runs // 2)):
        warm = runner.prewarm()
        end = time.monotonic() + 60
        while time.monotonic() < end and not (warm.pid and _waiting_on_stdin(warm.pid)):
            time.sleep(0.05)
        elapsed, used = first_progress()
        assert used, "the run did not use the warm child"
        warm_t.append(elapsed)
        elapsed, used = first_progress()
        assert not used
        cold_t.append(elapsed)
        torch_t.append(torch_import())
    runner.discard_warm()
    med = statistics.median
    return [
        Row(
            "demo key → first progress line, warm child",
            "attention",
            med(warm_t),
            med(cold_t),
            "the same run started cold",
            "≤ 0.5 s",
            "s",
        ),
        Row(
            "demo key → first progress line, cold",
            "attention",
            med(cold_t),
            med(torch_t),
            "a process importing torch",
            "",
            "s",
        ),
    ]


def fmt(value: float, unit: str = "s") -> str:
    if unit == "B":
        return f"{value:,.0f} B"
    seconds = value
    if seconds < 0.001:
        return f"{seconds * 1e6:.0f} µs"
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,100000,1000000", help="card counts")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--no-grading", action="store_true", help="skip the grading rows")
    parser.add_argument("--no-demos", action="store_true", help="skip the demo start-up rows")
    args = parser.parse_args()
    os.environ["LABDECK_CACHE"] = str(CACHE / "model")
    started = time.perf_counter()
    rows: list[Row] = []
    for cards in (int(x) for x in args.sizes.split(",") if x.strip()):
        rows += srs_rows(cards, args.runs)
    rows += startup_rows(args.runs)
    rows += as_rows(bench_review.rows(args.runs), "bench_review")
    if not args.no_grading:
        rows += grading_rows(args.runs)
    if not args.no_demos:
        rows += demo_rows(args.runs)
    first = {what: i for i, what in reversed(list(enumerate(r.what for r in rows)))}
    rows.sort(key=lambda r: first[r.what])  # one block per measure, its sizes in order
    print("| what | cards | time | floor | floor time | ratio | goal |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r.what} | {r.size} | {fmt(r.value, r.unit)} | {r.floor_name} | "
            f"{fmt(r.floor, r.unit)} | {r.value / r.floor:.2f}× | {r.goal} |"
        )
    print(f"\n(medians of {args.runs}; {time.perf_counter() - started:.0f} s in all)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Scheduler benchmark (not a test): 100,000 cards and 1,000,000 review-log rows.

    python benchmarks/bench_srs.py [--cards N] [--logs N] [--runs N] [--keep DIR]

Builds the database through the real migrations, bulk-loads it with ``executemany``, then
prints the median of several runs for:

* building today's queue (``Scheduler.queue()``; target ≤ 50 ms),
* answering one card, commit included (``Scheduler.answer()``; target ≤ 5 ms),
* ``labdeck due`` end-to-end in a subprocess (target ≤ 400 ms), next to the floor every
  command pays before it does any work (interpreter, imports, opening and migrating the store).

``--keep DIR`` builds into DIR once and reuses it afterwards (answers are undone after timing).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

NOW = datetime(2026, 3, 2, 10, 0)  # local time, as LABDECK_NOW
TODAY = NOW.date()  # study day at 10:00 with the default 04:00 rollover
DECKS = 3
CHAPTERS_PER_DECK = 25
HISTORY_DAYS = 730


def _ts(day: date, seconds: int) -> str:
    """A review timestamp on a study day, stored the way UTCDateTime stores it (naive UTC)."""
    local = datetime(day.year, day.month, day.day, 8, 0) + timedelta(seconds=seconds)
    return local.astimezone().astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def build(home: Path, n_cards: int, n_logs: int, seed: int = 7) -> None:
    from labdeck.store import open_store

    store = open_store(home)  # creates the schema through the migrations
    store.close()
    rng = random.Random(seed)
    conn = sqlite3.connect(home / "labdeck.db")
    conn.execute("PRAGMA synchronous=OFF")
    now = NOW.astimezone().astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    with conn:
        conn.executemany(
            "INSERT INTO deck (id, key, name, description, source, position, aliases) "
            "VALUES (?, ?, ?, '', 'outline', ?, '[]')",
            [(d, f"bench-{d}", f"Bench deck {d}", d) for d in range(1, DECKS + 1)],
        )
        chapters = []
        for d in range(1, DECKS + 1):
            for c in range(1, CHAPTERS_PER_DECK + 1):
                chapters.append((len(chapters) + 1, d, f"X{d}{c:02d}", f"Chapter {d}.{c}", c))
        conn.executemany(
            "INSERT INTO chapter (id, deck_id, code, title, description, position) "
            "VALUES (?, ?, ?, ?, '', ?)",
            chapters,
        )
        per_chapter = n_cards // len(chapters) + 1
        cards, states, seen = [], [], []
        for i in range(1, n_cards + 1):
            ch = chapters[(i - 1) // per_chapter]
            cards.append(
                (i, f"bench:{i}", ch[1], ch[0], (i - 1) % per_chapter + 1, f"Prompt {i}", now, now)
            )
            if rng.random() < 0.7:  # seen before
                reps = rng.randint(0, 8)
                due = TODAY + timedelta(days=rng.randint(-10, 90))
                states.append(
                    (
                        i,
                        reps,
                        rng.randrange(1300, 3100, 20),
                        rng.randint(1, 200),
                        due.isoformat(),
                        rng.randint(0, 3),
                        rng.randint(1, 30),
                        int(rng.random() < 0.01),
                    )
                )
                seen.append(i)
            else:
                states.append((i, 0, 2500, 0, None, 0, 0, int(rng.random() < 0.01)))
        conn.executemany(
            "INSERT INTO card (id, key, deck_id, chapter_id, position, prompt, answer, "
            "key_points, tags, demos, retired, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, NULL, '[]', '[]', '[]', 0, ?, ?)",
            cards,
        )
        conn.executemany(
            "INSERT INTO card_state (card_id, repetitions, ease, interval, due, lapses, "
            "reviews, leech, suspended) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?)",
            states,
        )

        # review history: chronological, the last rows on today's study day
        days = sorted(rng.randint(1, HISTORY_DAYS) for _ in range(n_logs - 150))
        days.reverse()
        day_list = [TODAY - timedelta(days=d) for d in days] + [TODAY] * 150
        batch = []
        for n, day in enumerate(day_list, start=1):
            card = rng.choice(seen)
            q = rng.choices(range(6), weights=(1, 1, 2, 4, 6, 5))[0]
            reps = rng.randint(0, 8)
            ease = rng.randrange(1300, 3100, 20)
            ivl = rng.randint(1, 200)
            batch.append(
                (
                    card,
                    _ts(day, n % 50000),
                    day.isoformat(),
                    q,
                    "review" if rng.random() < 0.9 else "redrill",
                    rng.randint(2000, 60000),
                    reps,
                    ease,
                    ivl,
                    (day - timedelta(days=1)).isoformat(),
                    reps + 1 if q >= 3 else 0,
                    ease,
                    ivl,
                    (day + timedelta(days=ivl)).isoformat(),
                )
            )
            if len(batch) >= 100_000:
                _insert_logs(conn, batch)
                batch = []
        _insert_logs(conn, batch)
    conn.execute("ANALYZE")
    conn.close()


def _insert_logs(conn: sqlite3.Connection, rows: list[tuple]) -> None:
    conn.executemany(
        "INSERT INTO review_log (card_id, ts, study_day, quality, mode, duration_ms, "
        "prev_repetitions, prev_ease, prev_interval, prev_due, prev_lapses, prev_leech, "
        "prev_suspended, new_repetitions, new_ease, new_interval, new_due, new_lapses, "
        "new_leech, new_suspended, undone) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, 0, ?, ?, ?, ?, 0, 0, 0, 0)",
        rows,
    )


def timed(fn: Callable[[], object], runs: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), times


def labdeck_command() -> list[str]:
    script = Path(sys.executable).parent / "labdeck"
    return [str(script)] if script.exists() else [sys.executable, "-m", "labdeck.cli"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=100_000)
    parser.add_argument("--logs", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--keep", type=Path, help="build here once and reuse the database")
    args = parser.parse_args()

    home = args.keep or Path(tempfile.mkdtemp(prefix="labdeck-bench-"))
    try:
        return bench(home, args)
    finally:
        if args.keep is None:
            shutil.rmtree(home, ignore_errors=True)


def bench(home: Path, args: argparse.Namespace) -> int:
    home.mkdir(parents=True, exist_ok=True)
    os.environ["LABDECK_HOME"] = str(home)
    os.environ["LABDECK_NOW"] = NOW.isoformat()
    if not (home / "labdeck.db").exists():
        t = time.perf_counter()
        build(home, args.cards, args.logs)
        spent = time.perf_counter() - t
        print(f"built {args.cards:,} cards and {args.logs:,} log rows in {spent:.1f} s ({home})")

    from labdeck.config import Settings
    from labdeck.srs.scheduler import Scheduler
    from labdeck.store import open_store

    store = open_store(home)
    sched = Scheduler(store, Settings(), now=lambda: NOW)
    with sqlite3.connect(home / "labdeck.db") as conn:
        cards, logs = conn.execute(
            "SELECT (SELECT count(*) FROM card), (SELECT count(*) FROM review_log)"
        ).fetchone()
    print(f"database: {cards:,} cards, {logs:,} review-log rows; study day {TODAY}")

    queue = sched.queue()
    kinds = {k: sum(e.kind == k for e in queue) for k in ("review", "redrill", "new")}
    q_med, _ = timed(sched.queue, args.runs)
    print(f"queue():            {q_med:7.2f} ms median of {args.runs}   {kinds}   (target ≤ 50)")
    c_med, _ = timed(sched.overview, args.runs)
    print(f"overview() counts:  {c_med:7.2f} ms median of {args.runs}")

    targets = [e.card_id for e in queue if e.kind != "redrill"][: max(args.runs, 5) * 2]
    answers = iter(targets)
    a_med, _ = timed(
        lambda: sched.answer(next(answers), 4, answer="bench", duration_ms=1), len(targets)
    )
    print(f"answer() + commit:  {a_med:7.2f} ms median of {len(targets)}   (target ≤ 5)")
    u_med, _ = timed(sched.undo, len(targets))
    print(f"undo() + commit:    {u_med:7.2f} ms median of {len(targets)}")
    store.close()
    o_med, _ = timed(lambda: open_store(home).close(), args.runs)
    print(
        f"open_store():       {o_med:7.2f} ms median of {args.runs} (integrity + migration check)"
    )

    env = {**os.environ, "LABDECK_NO_CONTENT": "1"}
    cmd = labdeck_command()
    subprocess.run([*cmd, "due"], env=env, check=True, capture_output=True)  # warm the cache

    def run(*argv: str) -> None:
        subprocess.run([*cmd, *argv], env=env, check=True, capture_output=True)

    d_med, _ = timed(lambda: run("due"), args.runs)
    j_med, _ = timed(lambda: run("due", "--json"), args.runs)
    f_med, _ = timed(lambda: run("db", "current"), args.runs)
    print(f"`labdeck due`:      {d_med:7.1f} ms median of {args.runs}, end to end   (target ≤ 400)")
    print(f"`labdeck due --json`: {j_med:5.1f} ms")
    print(f"floor `labdeck db current` (start-up + open store, no srs work): {f_med:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())

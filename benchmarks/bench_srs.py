"""Scheduler benchmark (not a test): 100,000 cards and 1,000,000 review-log rows.

    python benchmarks/bench_srs.py [--cards N] [--logs N] [--runs N] [--keep DIR]

Builds the database through the real migrations, bulk-loads it with ``executemany``, then
prints the median of several runs for:

* building today's queue (``Scheduler.queue()``; target ≤ 50 ms), also with an exam date on
  one deck (the first build computes each weighed card's exam-day gain, later ones reuse them),
* answering one card, commit included (``Scheduler.answer()``; target ≤ 5 ms),
* ``labdeck due`` end-to-end in a subprocess (target ≤ 400 ms), next to the floor every
  command pays before it does any work (interpreter, imports, opening and migrating the store).

``--keep DIR`` builds into DIR once and reuses it afterwards (answers are undone after timing).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

NOW = datetime(2026, 3, 2, 10, 0)  # local time, as LABDECK_NOW
TODAY = NOW.date()  # study day at 10:00 with the default 04:00 rollover
DECKS = 3
CHAPTERS_PER_DECK = 25
HISTORY_DAYS = 730


def build(home: Path, n_cards: int, n_logs: int) -> None:
    """A migrated store (``open_store``) bulk-filled by ``INSERT … SELECT`` over a recursive
    sequence: 1M cards and 1M log rows take seconds. Values come from a fixed integer hash of
    the row number, so every build is the same: 70 % of cards seen (due from 10 days ago to 90
    days ahead, 1 % suspended), 30 % new; the last 150 log rows are today's reviews."""
    from labdeck.store import open_store

    store = open_store(home)  # creates the schema through the migrations
    store.close()
    conn = sqlite3.connect(home / "labdeck.db")
    conn.execute("PRAGMA synchronous=OFF")
    conn.create_function("h", 2, _hash, deterministic=True)
    now = NOW.astimezone().astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    n_chapters = DECKS * CHAPTERS_PER_DECK
    per_chapter = n_cards // n_chapters + 1
    seq = "WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < :n) "
    with conn:
        conn.executemany(
            "INSERT INTO deck (id, key, name, description, source, position, aliases) "
            "VALUES (?, ?, ?, '', 'outline', ?, '[]')",
            [(d, f"bench-{d}", f"Bench deck {d}", d) for d in range(1, DECKS + 1)],
        )
        conn.executemany(
            "INSERT INTO chapter (id, deck_id, code, title, description, position) "
            "VALUES (?, ?, ?, ?, '', ?)",
            [
                ((d - 1) * CHAPTERS_PER_DECK + c, d, f"X{d}{c:02d}", f"Chapter {d}.{c}", c)
                for d in range(1, DECKS + 1)
                for c in range(1, CHAPTERS_PER_DECK + 1)
            ],
        )
        conn.execute(
            seq + "INSERT INTO card (id, key, deck_id, chapter_id, position, prompt, answer, "
            "key_points, tags, demos, retired, created_at, updated_at) "
            "SELECT i, 'bench:' || i, (i - 1) / :per / :cpd + 1, (i - 1) / :per + 1, "
            "(i - 1) % :per + 1, 'Prompt ' || i, NULL, '[]', '[]', '[]', 0, :now, :now "
            "FROM seq",
            {"n": n_cards, "per": per_chapter, "cpd": CHAPTERS_PER_DECK, "now": now},
        )
        conn.execute(
            seq + "INSERT INTO card_state (card_id, repetitions, ease, interval, due, lapses, "
            "reviews, leech, suspended) SELECT i, "
            "CASE WHEN h(i, 1) % 10 < 7 THEN h(i, 2) % 9 ELSE 0 END, "
            "CASE WHEN h(i, 1) % 10 < 7 THEN 1300 + 20 * (h(i, 3) % 90) ELSE 2500 END, "
            "CASE WHEN h(i, 1) % 10 < 7 THEN 1 + h(i, 4) % 200 ELSE 0 END, "
            "CASE WHEN h(i, 1) % 10 < 7 THEN date(:today, (h(i, 5) % 101 - 10) || ' days') END, "
            "CASE WHEN h(i, 1) % 10 < 7 THEN h(i, 6) % 4 ELSE 0 END, "
            "CASE WHEN h(i, 1) % 10 < 7 THEN 1 + h(i, 7) % 30 ELSE 0 END, "
            "0, h(i, 8) % 100 = 0 FROM seq",
            {"n": n_cards, "today": TODAY.isoformat()},
        )
        # review history, chronological, of seen cards; the last 150 rows are today's
        conn.execute(
            seq + "INSERT INTO review_log (card_id, ts, study_day, quality, mode, duration_ms, "
            "prev_repetitions, prev_ease, prev_interval, prev_due, prev_lapses, prev_leech, "
            "prev_suspended, new_repetitions, new_ease, new_interval, new_due, new_lapses, "
            "new_leech, new_suspended, undone) "
            "SELECT card_id, datetime(day, '-' || (i % 36000) || ' seconds', '+10 hours') || '.000000', "
            "day, q, CASE WHEN h(i, 12) % 10 = 0 THEN 'redrill' ELSE 'review' END, "
            "2000 + h(i, 13) % 58000, 3, 2500, 6, date(day, '-1 days'), 0, 0, 0, "
            "CASE WHEN q >= 3 THEN 4 ELSE 0 END, 2500, 6, date(day, '+6 days'), 0, 0, 0, 0 "
            "FROM (SELECT i, q, day, (SELECT card_id FROM card_state WHERE due IS NOT NULL "
            "AND card_id >= 1 + h(i, 10) % :cards ORDER BY card_id LIMIT 1) AS card_id FROM "
            "(SELECT i, h(i, 11) % 6 AS q, CASE WHEN i > :n - 150 THEN :today ELSE "
            "date(:today, '-' || (:days - (i - 1) * :days / :n) || ' days') END AS day "
            "FROM seq)) WHERE card_id IS NOT NULL",
            {"n": n_logs, "cards": n_cards, "today": TODAY.isoformat(), "days": HISTORY_DAYS},
        )
    conn.execute("ANALYZE")
    conn.close()


def _hash(i: int, salt: int) -> int:
    """A fixed pseudo-random non-negative integer for row ``i`` (Knuth's multiplicative hash)."""
    return ((i * 2654435761 + salt * 40503) ^ (salt * 2246822519)) % 4294967291


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
    exam = Settings(exam_dates={"bench-1": (TODAY + timedelta(days=14)).isoformat()})
    exam_sched = Scheduler(store, exam, now=lambda: NOW)
    first, _ = timed(exam_sched.queue, 1)  # every exam-day gain computed
    e_med, _ = timed(exam_sched.queue, args.runs)  # the gains kept (``exam_date._gain``)
    print(f"queue(), an exam date on bench-1: {first:7.2f} ms first, {e_med:.2f} ms after")

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
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # from bytecode, as an installed labdeck runs
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

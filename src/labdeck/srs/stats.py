"""Aggregates for the Stats screen: SQL aggregates over the review log and card states.

Undone answers never count. "Scheduled reviews" are answers in mode review or exam of cards
that had been seen before (a new card's first answer is not a measure of retention).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from labdeck.srs import sm2
from labdeck.store.sql import fetch

if TYPE_CHECKING:
    from labdeck.srs.fsrs_deck import DeckRetrievability
    from labdeck.srs.scheduler import Scheduler
    from labdeck.store.sql import Conn

KNOWN_REPETITIONS = 2  # passed two scheduled reviews in a row: interval ≥ 6 days
MATURE_DAYS = 21  # Anki's line between young and mature cards (interval in days)
# Bands of the interval a card had when it was reviewed: (label, lowest day, highest day).
INTERVAL_BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("1-6 d", 0, 6),
    ("7-20 d", 7, MATURE_DAYS - 1),
    ("21-89 d", MATURE_DAYS, 89),
    ("90 d+", 90, None),
)


@dataclass(frozen=True)
class Retention:
    reviews: int
    passed: int  # q ≥ 3

    @property
    def rate(self) -> float | None:
        return self.passed / self.reviews if self.reviews else None


@dataclass(frozen=True)
class BandRetention:
    """True retention of scheduled reviews whose card had an interval in one band."""

    band: str
    low: int  # days, inclusive
    high: int | None  # days, inclusive; None: no upper bound
    reviews: int
    passed: int

    @property
    def rate(self) -> float | None:
        return self.passed / self.reviews if self.reviews else None

    @property
    def mature(self) -> bool:
        return self.low >= MATURE_DAYS

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "rate": self.rate, "mature": self.mature}


@dataclass(frozen=True)
class ChapterMastery:
    deck: str
    chapter: str
    title: str
    total: int  # cards (not retired)
    seen: int  # answered at least once in a scheduled review
    known: int  # repetitions ≥ 2: the last two scheduled reviews passed
    mean_ease: Decimal | None  # mean E-Factor of the seen cards

    @property
    def mastery(self) -> float:
        """Share of the chapter's cards that are known (0…1)."""
        return self.known / self.total if self.total else 0.0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["mean_ease"] = str(self.mean_ease) if self.mean_ease is not None else None
        data["mastery"] = self.mastery
        return data


@dataclass(frozen=True)
class TodaySummary:
    day: date
    answered: int  # every answer today (reviews, re-drills, exams)
    passed: int  # of those, q ≥ 3
    new: int  # new cards introduced today
    reviews: int  # scheduled reviews of seen cards
    redrills: int
    exams: int
    time_ms: int  # total time taken, where recorded
    streak: int = 0  # consecutive study days with answers (see StudyStats.streak)

    @property
    def passed_share(self) -> float | None:
        return self.passed / self.answered if self.answered else None

    @property
    def pass_rate(self) -> float | None:
        return self.passed_share

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["day"] = self.day.isoformat()
        data["passed_share"] = self.passed_share
        return data


class StudyStats:
    """Bound to a scheduler for its store, settings and clock."""

    def __init__(self, scheduler: Scheduler) -> None:
        self.scheduler = scheduler

    def _rows(self, sql: str, **params: Any) -> list[tuple[Any, ...]]:
        """Raw rows (SQLite values: counts and sums, None over no rows)."""
        from sqlalchemy import text

        with self.scheduler.repo.read() as conn:
            return [tuple(r) for r in conn.execute(text(sql), params)]

    def reviews_per_day(self, days: int = 30) -> list[tuple[date, int]]:
        """Answers (all modes, not undone) on each of the last ``days`` study days, oldest first
        (``answers_per_day``)."""
        today = self.scheduler.today()
        with self.scheduler.repo.read() as conn:
            return answers_per_day(conn, today, days)

    def _scheduled_reviews(self, days: int | None) -> tuple[str, dict[str, Any]]:
        """The WHERE clause (and its parameters) of scheduled reviews of seen cards, in the
        last ``days`` study days (None: all time)."""
        where = "undone = 0 AND mode != 'redrill' AND prev_due IS NOT NULL"
        if days is None:
            return where, {}
        today = self.scheduler.today()
        start = (today - timedelta(days=max(days, 1) - 1)).isoformat()
        where += " AND study_day >= :start AND study_day <= :end"
        return where, {"start": start, "end": today.isoformat()}

    def retention(self, days: int | None = 30) -> Retention:
        """Share of scheduled reviews (of seen cards) answered with q ≥ 3, last ``days`` days."""
        where, params = self._scheduled_reviews(days)
        ((reviews, passed),) = self._rows(
            f"SELECT count(*), sum(quality >= 3) FROM review_log WHERE {where}", **params
        )
        return Retention(int(reviews or 0), int(passed or 0))

    def retention_by_interval(self, days: int | None = None) -> list[BandRetention]:
        """True retention (share with q ≥ 3) of scheduled reviews by the interval the card had
        when it was reviewed, in ``INTERVAL_BANDS`` (young < 21 d ≤ mature), last ``days``
        days or all time. Re-drills and first answers of new cards are not reviews of memory."""
        where, params = self._scheduled_reviews(days)
        cases = " ".join(
            f"WHEN prev_interval >= {low}"
            + (f" AND prev_interval <= {high}" if high else "")
            + f" THEN {i}"
            for i, (_, low, high) in enumerate(INTERVAL_BANDS)
        )
        counts = {
            int(band): (int(n), int(passed or 0))
            for band, n, passed in self._rows(
                f"SELECT CASE {cases} END AS band, count(*), sum(quality >= 3) "
                f"FROM review_log WHERE {where} GROUP BY band",
                **params,
            )
            if band is not None
        }
        return [
            BandRetention(label, low, high, *counts.get(i, (0, 0)))
            for i, (label, low, high) in enumerate(INTERVAL_BANDS)
        ]

    def time_per_day(self, days: int = 30) -> list[tuple[date, float]]:
        """Minutes spent answering on each of the last ``days`` study days, oldest first: the
        recorded time per answer (review screen: card shown → rated; exam: time on the
        question), undone answers excluded; answers with no recorded time count 0."""
        today = self.scheduler.today()
        start = today - timedelta(days=max(days, 1) - 1)
        spent = {
            date.fromisoformat(str(day)[:10]): int(ms or 0) / 60_000
            for day, ms in self._rows(
                "SELECT study_day, sum(duration_ms) FROM review_log WHERE study_day >= :start "
                "AND study_day <= :end AND undone = 0 GROUP BY study_day",
                start=start.isoformat(),
                end=today.isoformat(),
            )
        }
        return [
            (start + timedelta(days=i), round(spent.get(start + timedelta(days=i), 0.0), 2))
            for i in range(max(days, 1))
        ]

    def ease_distribution(self) -> list[tuple[Decimal, int]]:
        """(E-Factor, number of cards) over cards that have been reviewed, lowest EF first."""
        rows = self._rows(
            "SELECT cs.ease, count(*) FROM card_state cs JOIN card c ON c.id = cs.card_id "
            "WHERE cs.due IS NOT NULL AND c.retired = 0 GROUP BY cs.ease ORDER BY cs.ease"
        )
        return [(sm2.ease_from_permille(int(ease)), int(n)) for ease, n in rows]

    def chapter_mastery(self, deck: str | None = None) -> list[ChapterMastery]:
        """Per chapter (deck and chapter order): cards, seen, known, mean EF."""
        from sqlalchemy import text

        with self.scheduler.repo.read() as conn:
            decks = self.scheduler.repo.decks(conn, deck)
            ids = ",".join(str(d.id) for d in decks) or "NULL"
            rows = conn.execute(
                text(
                    "SELECT c.chapter_id, count(*), sum(cs.due IS NOT NULL), "
                    f"sum(cs.repetitions >= {KNOWN_REPETITIONS}), "
                    "avg(CASE WHEN cs.due IS NOT NULL THEN cs.ease END) "
                    "FROM card c JOIN card_state cs ON cs.card_id = c.id "
                    f"WHERE c.retired = 0 AND c.deck_id IN ({ids}) GROUP BY c.chapter_id"
                )
            ).all()
            chapters = conn.execute(
                text(
                    "SELECT id, deck_id, code, title FROM chapter "
                    f"WHERE deck_id IN ({ids}) ORDER BY position, id"
                )
            ).all()
        by_chapter = {int(r[0]): r[1:] for r in rows}
        keys = {d.id: d.key for d in decks}
        order = {d.id: i for i, d in enumerate(decks)}
        result = []
        for chapter_id, deck_id, code, title in sorted(chapters, key=lambda c: order[c[1]]):
            if chapter_id not in by_chapter:
                continue
            total, seen, known, mean = by_chapter[chapter_id]
            mean_ease = sm2.to_ease(Decimal(str(mean)) / 1000) if mean is not None else None
            result.append(
                ChapterMastery(
                    keys[deck_id],
                    code,
                    title,
                    int(total),
                    int(seen or 0),
                    int(known or 0),
                    mean_ease,
                )
            )
        return result

    def retrievability(self, deck: str | None = None) -> list[DeckRetrievability]:
        """Per deck: FSRS's predicted probability of recall today, mean over reviewed cards
        (``labdeck.srs.fsrs_deck.retrievability``; SM-2 decks are modelled too)."""
        from labdeck.srs import fsrs_deck

        sched = self.scheduler
        with sched.repo.read() as conn:
            decks = [(d.id, d.key) for d in sched.repo.decks(conn, deck)]
            return fsrs_deck.retrievability(conn, sched.settings, decks, sched.today())

    def streak(self) -> int:
        """Consecutive study days with answers, ending today (``streak_on``)."""
        today = self.scheduler.today()
        with self.scheduler.repo.read() as conn:
            return streak_on(conn, today)

    def today(self) -> TodaySummary:
        """Today's answers: count, share with q ≥ 3, how they split by kind; the streak
        (``today_on``)."""
        day = self.scheduler.today()
        with self.scheduler.repo.read() as conn:
            return today_on(conn, day)


def answers_per_day(conn: Conn, today: date, days: int = 30) -> list[tuple[date, int]]:
    """Answers (all modes, not undone) on each of the last ``days`` study days up to
    ``today``, oldest first."""
    start = today - timedelta(days=max(days, 1) - 1)
    counts = {
        date.fromisoformat(str(day)[:10]): int(n)
        for day, n in fetch(
            conn,
            "SELECT study_day, count(*) FROM review_log WHERE study_day >= :start "
            "AND study_day <= :end AND undone = 0 GROUP BY study_day",
            {"start": start.isoformat(), "end": today.isoformat()},
        )
    }
    return [
        (start + timedelta(days=i), counts.get(start + timedelta(days=i), 0))
        for i in range(max(days, 1))
    ]


def streak_on(conn: Conn, today: date) -> int:
    """Consecutive study days with at least one answer, ending ``today`` (or the day before
    when nothing has been answered yet today)."""

    def studied(day: date) -> bool:
        return bool(
            fetch(
                conn,
                "SELECT 1 FROM review_log WHERE study_day = :day AND undone = 0 LIMIT 1",
                {"day": day.isoformat()},
            )
        )

    day = today if studied(today) else today - timedelta(days=1)
    streak = 0
    while studied(day):
        streak += 1
        day -= timedelta(days=1)
    return streak


def today_on(conn: Conn, day: date) -> TodaySummary:
    """The study day ``day``'s answers: count, share with q ≥ 3, how they split by kind; the
    streak up to it."""
    ((answered, passed, new, reviews, redrills, exams, time_ms),) = fetch(
        conn,
        "SELECT count(*), sum(quality >= 3), "
        "sum(mode = 'review' AND prev_due IS NULL), "
        "sum(mode = 'review' AND prev_due IS NOT NULL), "
        "sum(mode = 'redrill'), sum(mode = 'exam'), sum(duration_ms) "
        "FROM review_log WHERE study_day = :day AND undone = 0",
        {"day": day.isoformat()},
    )
    return TodaySummary(
        day,
        int(answered or 0),
        int(passed or 0),
        int(new or 0),
        int(reviews or 0),
        int(redrills or 0),
        int(exams or 0),
        int(time_ms or 0),
        streak_on(conn, day),
    )

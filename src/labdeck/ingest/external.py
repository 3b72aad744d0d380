"""Store cards that come from another program (Anki packages, Anki-style CSV/TSV).

The importers parse a whole file into an ``ExternalDeck`` first (a parse error writes
nothing), then this module writes it in ONE transaction through the same upsert helpers as
the learner documents: stable keys, text updated in place. A schedule and review history that
come with a card are applied only when they are news to labdeck: the card was never reviewed
here, or the file's last review is newer than labdeck's. History rows already present (same
card, same moment) are never added twice, so re-importing a file changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from labdeck import clock
from labdeck.ingest.common import (
    MAX_BODY_CHARS,
    MAX_TITLE_CHARS,
    one_line,
    slug,
    within_limit,
)
from labdeck.ingest.load import ImportReport, _set, _upsert_card, _upsert_chapter
from labdeck.store import Store
from labdeck.store.models import CardState, Deck, ReviewLog


@dataclass
class SchedPoint:
    """SM-2 state at one moment (before or after a review)."""

    repetitions: int
    ease: int  # per-mille
    interval: int  # days
    due: date | None
    lapses: int = 0


@dataclass
class ExternalReview:
    ts: datetime  # timezone-aware
    quality: int
    prev: SchedPoint
    new: SchedPoint
    duration_ms: int | None = None


@dataclass
class ExternalSchedule:
    repetitions: int
    ease: int
    interval: int
    due: date | None  # None: a new card
    lapses: int
    reviews: int
    suspended: bool = False
    leech: bool = False
    last_review: datetime | None = None  # timezone-aware


@dataclass
class ExternalCard:
    key: str
    chapter: str  # the subdeck path below the top deck ("" = the top deck itself)
    prompt: str
    answer: str | None
    kind: str = "essay"
    drill: dict[str, Any] | None = None
    tags: list[str] = field(default_factory=list)
    line: int | None = None
    schedule: ExternalSchedule | None = None
    history: list[ExternalReview] = field(default_factory=list)


@dataclass
class ExternalDeck:
    key: str
    name: str
    source: str  # anki | csv
    path: Path
    cards: list[ExternalCard] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # "file:line: message", imported anyway


def _utc(moment: datetime) -> datetime:
    """The store keeps moments in UTC (sqlmodel's UTCDateTime); naive values are UTC."""
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def _chapter_code(title: str, taken: set[str]) -> str:
    base = slug(title, 24) if title else "main"
    code, n = base, 2
    while code in taken:
        code, n = f"{base}-{n}", n + 1
    taken.add(code)
    return code


def store_external(store: Store, deck: ExternalDeck, *, dry_run: bool = False) -> ImportReport:
    report = ImportReport(
        path=one_line(str(deck.path)), kind=deck.source, deck=deck.key, dry_run=dry_run
    )
    report.warnings.extend(deck.warnings)
    now = clock.now()
    with Session(store.engine, expire_on_commit=False) as session:
        row = session.exec(select(Deck).where(Deck.key == deck.key)).first()
        values: dict[str, Any] = {
            "name": deck.name,
            "source": deck.source,
            "source_path": str(deck.path),
        }
        if row is None:
            position = len(session.exec(select(Deck.id)).all()) + 1
            row = Deck(key=deck.key, position=position, **values)
            session.add(row)
            session.flush()
        else:
            _set(row, values)
        titles = list(dict.fromkeys(card.chapter for card in deck.cards))
        chapters = {}
        taken: set[str] = set()
        for cpos, title in enumerate(titles, start=1):
            chapters[title] = _upsert_chapter(
                session,
                row,
                {
                    "code": _chapter_code(title, taken),
                    "title": title or deck.name,
                    "position": cpos,
                },
            )
        report.chapters = len(chapters)
        for pos, ext in enumerate(deck.cards, start=1):
            _bound(ext, report)
            card = _upsert_card(
                session,
                report,
                ext.key,
                {
                    "deck_id": row.id,
                    "chapter_id": chapters[ext.chapter].id,
                    "position": pos,
                    "prompt": ext.prompt,
                    "answer": ext.answer,
                    "tags": ext.tags,
                    "kind": ext.kind,
                    "drill": ext.drill,
                    "parent_id": None,
                    "source_path": str(deck.path),
                    "source_line": ext.line,
                },
                now,
            )
            report.items += 1
            assert card.id is not None  # flushed
            moved = _apply_schedule(session, card.id, ext)
            if moved and ext.key not in report.created and ext.key not in report.updated:
                report.updated.append(ext.key)
                report.unchanged -= 1
        if dry_run:
            session.rollback()
        else:
            session.commit()
    return report


def _bound(ext: ExternalCard, report: ImportReport) -> None:
    """The import limits of the learner documents (labdeck.ingest.common) apply here too."""
    where = f"{report.path}:{ext.line}" if ext.line else report.path
    ext.prompt = within_limit(ext.prompt, MAX_TITLE_CHARS, where, "question", report.warnings)
    if ext.answer is not None:
        ext.answer = within_limit(ext.answer, MAX_BODY_CHARS, where, "answer", report.warnings)


def _apply_schedule(session: Session, card_id: int, ext: ExternalCard) -> bool:
    """Bring in the file's schedule and history when they are newer; True if anything moved."""
    changed = False
    if not ext.history and ext.schedule is None:
        return changed
    seen = {
        _utc(ts) for ts in session.exec(select(ReviewLog.ts).where(ReviewLog.card_id == card_id))
    }
    for review in ext.history:
        ts = _utc(review.ts)
        if ts in seen:
            continue
        seen.add(ts)
        session.add(
            ReviewLog(
                card_id=card_id,
                ts=review.ts.astimezone(),
                study_day=clock.study_day(review.ts),
                quality=review.quality,
                mode="review",
                duration_ms=review.duration_ms,
                prev_repetitions=review.prev.repetitions,
                prev_ease=review.prev.ease,
                prev_interval=review.prev.interval,
                prev_due=review.prev.due,
                prev_lapses=review.prev.lapses,
                new_repetitions=review.new.repetitions,
                new_ease=review.new.ease,
                new_interval=review.new.interval,
                new_due=review.new.due,
                new_lapses=review.new.lapses,
            )
        )
        changed = True
    sched = ext.schedule
    if sched is None or (sched.due is None and not sched.suspended):
        return changed
    state = session.get(CardState, card_id)
    if state is None:
        state = CardState(card_id=card_id)
        session.add(state)
    never_here = state.last_review is None and state.due is None
    theirs = sched.last_review.astimezone() if sched.last_review else None
    newer = (
        theirs is not None
        and state.last_review is not None
        and _utc(theirs) > _utc(state.last_review)
    )
    if not (never_here or newer):
        return changed
    values = {
        "repetitions": sched.repetitions,
        "ease": sched.ease,
        "interval": sched.interval,
        "due": sched.due,
        "lapses": sched.lapses,
        "reviews": sched.reviews,
        "suspended": sched.suspended,
        "leech": sched.leech,
        "last_review": theirs,
    }
    return _set(state, values) or changed

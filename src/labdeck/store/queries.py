"""Read-side queries shared by the CLI and the TUI (plain data, no UI)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy import text as sql
from sqlmodel import Session, col, select

from labdeck.store.db import Store
from labdeck.store.models import Card, Chapter, Deck


@dataclass
class ChapterInfo:
    code: str
    title: str
    cards: int
    title_zh: str | None = None
    by_kind: dict[str, int] = field(default_factory=dict)  # essay / cloze / choice / truefalse


@dataclass
class DeckInfo:
    key: str
    name: str
    description: str
    source: str
    cards: int
    chapters: list[ChapterInfo] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class CardInfo:
    key: str
    deck: str
    chapter: str
    prompt: str
    answer: str | None
    key_points: list[str]
    demos: list[str]
    prompt_zh: str | None = None
    tags: list[str] = field(default_factory=list)
    outline_ref: str | None = None
    notes: str | None = None
    id: int = 0
    kind: str = "essay"  # essay | cloze | choice | truefalse
    drill: dict[str, Any] | None = (
        None  # a drill's own data (see labdeck.ingest.deckfile.ContentDrill)
    )
    parent_key: str | None = None  # a drill's essay card
    reviews: int = 0  # answers so far: seeds the option order of a choice card per showing
    note_check: dict[str, Any] | None = None  # a shipped correction for the learner's notes (raw)

    @property
    def note_flag(self) -> str | None:
        """'Check your note': the correction to show next to the notes, when they need it."""
        from labdeck.notecheck import note_flag

        return note_flag(self.notes, self.note_check)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("id")
        data.pop("note_check")
        data["note_flag"] = self.note_flag
        return data


def list_decks(store: Store) -> list[DeckInfo]:
    with Session(store.engine) as s:
        kinds: dict[int | None, dict[str, int]] = {}  # keyed like Chapter.id
        for chapter_id, kind, n in s.exec(
            select(col(Card.chapter_id), col(Card.kind), func.count(col(Card.id)))
            .where(Card.retired == False)
            .group_by(col(Card.chapter_id), col(Card.kind))
        ).all():
            kinds.setdefault(chapter_id, {})[kind] = int(n)
        counts = {cid: sum(k.values()) for cid, k in kinds.items()}
        decks = []
        for deck in s.exec(select(Deck).order_by(col(Deck.position), col(Deck.key))).all():
            chapters = [
                ChapterInfo(c.code, c.title, counts.get(c.id, 0), c.title_zh, kinds.get(c.id, {}))
                for c in s.exec(
                    select(Chapter)
                    .where(col(Chapter.deck_id) == deck.id)
                    .order_by(col(Chapter.position))
                ).all()
            ]
            chapters = [c for c in chapters if c.cards]
            decks.append(
                DeckInfo(
                    deck.key,
                    deck.name,
                    deck.description,
                    deck.source,
                    sum(c.cards for c in chapters),
                    chapters,
                )
            )
        return [d for d in decks if d.cards]


def list_cards(
    store: Store,
    deck: str | None = None,
    chapter: str | None = None,
    *,
    include_retired: bool = False,
    kind: str | None = None,
) -> list[CardInfo]:
    from sqlalchemy.orm import aliased

    Parent = aliased(Card)
    with Session(store.engine) as s:
        query = (
            select(Card, Deck.key, Chapter.code, Parent.key)
            .join(Deck, col(Deck.id) == col(Card.deck_id))
            .join(Chapter, col(Chapter.id) == col(Card.chapter_id))
            .outerjoin(Parent, col(Parent.id) == col(Card.parent_id))
            .order_by(
                col(Deck.position),
                col(Deck.key),
                col(Chapter.position),
                col(Card.position),
                col(Card.id),
            )
        )
        if kind:
            query = query.where(Card.kind == kind)
        if not include_retired:
            query = query.where(Card.retired == False)
        if deck:
            query = query.where((Deck.key == deck) | (Deck.name == deck))
        if chapter:
            query = query.where(Chapter.code == chapter.upper())
        return [
            CardInfo(
                key=card.key,
                deck=deck_key,
                chapter=code,
                prompt=card.prompt,
                answer=card.answer,
                key_points=list(card.key_points),
                demos=list(card.demos),
                prompt_zh=card.prompt_zh,
                tags=list(card.tags),
                outline_ref=card.outline_ref,
                notes=card.notes,
                id=card.id or 0,
                kind=card.kind,
                drill=card.drill,
                parent_key=parent_key,
                note_check=card.note_check,
            )
            for card, deck_key, code, parent_key in s.exec(query).all()
        ]


def search_cards(cards: list[CardInfo], query: str, limit: int = 50) -> list[CardInfo]:
    """Fuzzy search over prompts (weighted higher), Chinese prompts, answers and notes."""
    from rapidfuzz import fuzz

    needle = query.strip().casefold()
    if not needle:
        return cards[:limit]
    scored = []
    for card in cards:
        fields = [
            (card.prompt, 1.0),
            (card.prompt_zh or "", 1.0),
            (card.key, 0.9),
            (" ".join(card.tags), 0.9),
            (card.answer or "", 0.85),
            (card.notes or "", 0.8),
        ]
        best = 0.0
        for text, weight in fields:
            hay = text.casefold()
            if not hay:
                continue
            score = 100.0 if needle in hay else fuzz.partial_ratio(needle, hay)
            best = max(best, score * weight)
        if best >= 70:
            scored.append((best, card))
    scored.sort(key=lambda pair: -pair[0])
    return [card for _, card in scored[:limit]]


# ---------------------------------------------------------------- scheduling state (read side)


def _day(value: object) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


@dataclass
class CardSchedule:
    """A card's scheduling state as stored (``card_state``); a card without a row is new.

    The day rules are the scheduler's (``labdeck.srs.scheduler``'s queue SQL): a card is due
    when it is not suspended, has a due day on or before today and is not buried past today.
    """

    repetitions: int = 0
    ease: int = 2500  # per-mille
    interval: int = 0
    due: date | None = None  # None: never answered (new)
    lapses: int = 0
    reviews: int = 0
    leech: bool = False
    suspended: bool = False
    buried_until: date | None = None

    def buried(self, today: date) -> bool:
        return self.buried_until is not None and self.buried_until > today

    def is_due(self, today: date) -> bool:
        return (
            not self.suspended
            and self.due is not None
            and self.due <= today
            and not self.buried(today)
        )

    def is_new(self) -> bool:
        return self.due is None and not self.suspended

    def state(self, today: date) -> str:
        """One word for a table: suspended, leech, new, buried, due or learning."""
        if self.suspended:
            return "leech·susp" if self.leech else "suspended"
        if self.leech:
            return "leech"
        if self.due is None:
            return "new"
        if self.buried(today):
            return "buried"
        return "due" if self.is_due(today) else "learning"


def card_schedules(store: Store) -> dict[int, CardSchedule]:
    """Every card's scheduling state, by card id (cards never scheduled are absent)."""
    with store.engine.connect() as conn:
        rows = conn.execute(
            sql(
                "SELECT card_id, repetitions, ease, interval, due, lapses, reviews, leech, "
                "suspended, buried_until FROM card_state"
            )
        )
        return {
            int(r[0]): CardSchedule(
                int(r[1]),
                int(r[2]),
                int(r[3]),
                _day(r[4]),
                int(r[5]),
                int(r[6]),
                bool(r[7]),
                bool(r[8]),
                _day(r[9]),
            )
            for r in rows
        }


@dataclass
class ReviewEntry:
    """One answer in a card's review log."""

    ts: datetime | str
    day: date | str
    mode: str
    quality: int
    score: float | None
    suggested: int | None
    prev_interval: int
    new_interval: int
    new_due: str | None
    undone: bool


def review_history(store: Store, card_id: int) -> list[ReviewEntry]:
    """A card's answers, oldest first (undone ones included, flagged)."""
    with store.engine.connect() as conn:
        result = conn.execute(
            sql(
                "SELECT ts, study_day, mode, quality, score, suggested, prev_interval, "
                "new_interval, new_due, undone FROM review_log WHERE card_id = :c ORDER BY id"
            ),
            {"c": card_id},
        )
        return [
            ReviewEntry(
                r[0], r[1], r[2], int(r[3]), r[4], r[5], int(r[6]), int(r[7]), r[8], bool(r[9])
            )
            for r in result
        ]

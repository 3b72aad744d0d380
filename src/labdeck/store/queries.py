"""Read-side queries shared by the CLI and the TUI (plain data, no UI)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import func
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

"""What an export reads: the live cards of one deck (or all), with schedule and history."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from labdeck.store import Store
from labdeck.store.models import Card, CardState, Chapter, Deck, ReviewLog


@dataclass
class ExportCard:
    deck: Deck
    chapter: Chapter
    card: Card
    state: CardState | None
    history: list[ReviewLog] = field(default_factory=list)


def export_rows(store: Store, deck: str | None = None) -> list[ExportCard]:
    """Cards in deck/chapter/position order; ``deck`` is a deck key or name (else every deck).
    Retired cards and undone answers are left out."""
    with Session(store.engine, expire_on_commit=False) as session:
        decks = session.exec(select(Deck).order_by(col(Deck.position), col(Deck.id))).all()
        if deck is not None:
            decks = [d for d in decks if deck in (d.key, d.name)]
            if not decks:
                raise ValueError(f"no deck {deck!r} (see `labdeck decks`)")
        chapters = {c.id: c for c in session.exec(select(Chapter)).all()}
        out: list[ExportCard] = []
        for d in decks:
            cards = session.exec(
                select(Card)
                .where(Card.deck_id == d.id, Card.retired == False)
                .order_by(col(Card.chapter_id), col(Card.position), col(Card.id))
            ).all()
            cards = sorted(cards, key=lambda c: (chapters[c.chapter_id].position, c.position, c.id))
            states: dict[int | None, CardState] = {
                s.card_id: s
                for s in session.exec(
                    select(CardState).where(col(CardState.card_id).in_([c.id for c in cards]))
                ).all()
            }
            logs: dict[int | None, list[ReviewLog]] = {}  # keyed like Card.id
            for row in session.exec(
                select(ReviewLog)
                .where(
                    col(ReviewLog.card_id).in_([c.id for c in cards]),
                    ReviewLog.undone == False,
                )
                .order_by(col(ReviewLog.ts), col(ReviewLog.id))
            ).all():
                logs.setdefault(row.card_id, []).append(row)
            out.extend(
                ExportCard(d, chapters[c.chapter_id], c, states.get(c.id), logs.get(c.id, []))
                for c in cards
            )
    return out


def basic_sides(row: ExportCard) -> tuple[str, str]:
    """Front and back (plain text) of an essay, choice or true/false card as a Basic note."""
    card = row.card
    drill = card.drill or {}
    prompt = card.prompt + (f"\n{card.prompt_zh}" if card.prompt_zh else "")
    if card.kind == "choice":
        letters = "ABCDEF"
        options = "\n".join(f"{letters[i]}. {o}" for i, o in enumerate(drill.get("options", [])))
        back = "; ".join(drill.get("correct", []))
        if drill.get("why"):
            back += f"\n{drill['why']}"
        return f"{prompt}\n\n{options}", back
    if card.kind == "truefalse":
        verdict = "True" if drill.get("verdict") else "False"
        return f"True or false? {prompt}", f"{verdict} — {drill.get('why') or ''}".strip(" —")
    return prompt, card.answer or "(no reference answer: grade yourself)"


def cloze_note_key(key: str) -> str:
    """The key shared by the cards of one cloze note: ``deck:id.c2`` -> ``deck:id``."""
    return key.rsplit(".c", 1)[0]


def group_notes(rows: list[ExportCard]) -> list[list[ExportCard]]:
    """One group per Anki note: a cloze drill's cards together, every other card alone."""
    groups: dict[tuple[object, ...], list[ExportCard]] = {}
    for row in rows:
        card = row.card
        if card.kind == "cloze" and card.drill:
            groups.setdefault(("cloze", card.deck_id, cloze_note_key(card.key)), []).append(row)
        else:
            groups[("one", card.id)] = [row]
    return list(groups.values())


def anki_deck_name(row: ExportCard) -> str:
    """``Deck::CODE Title`` (an Anki subdeck per chapter; '::' inside names is flattened)."""

    def part(text: str) -> str:
        return " ".join(text.replace("::", ":").split())

    title = f"{row.chapter.code} {row.chapter.title}".strip()
    return f"{part(row.deck.name)}::{part(title)}"


def note_guid(key: str) -> str:
    """Anki note GUID for a card key (cards imported from Anki get their GUID back)."""
    return key.removeprefix("anki:")

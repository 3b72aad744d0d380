"""FSRS decks over the store: which step a card's scheduled review takes, the deck's fitted
parameters (``meta`` key ``fsrs.parameters.<deck key>``, a JSON list), switching a deck between
SM-2 and FSRS, and predicted retrievability.

Switching never writes or deletes a ``review_log`` row. It rebuilds, for every card with
scheduled answers, the state the new scheduler would have reached from that history:

* sm2 → fsrs: ``interval``/``due`` from py-fsrs' ``reschedule_card`` over the card's scheduled,
  not-undone answers (due = last such study day + FSRS interval); repetitions and ease from
  replaying SM-2 (passes since the last failure, the E-Factor kept for switching back).
* fsrs → sm2: the full state replayed through ``sm2.next_state`` (due = last day + interval).

Lapses, leech flags, suspension and burying are left as they are (both schedulers count a
lapse the same way). Cards never answered stay new.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.engine import Connection

from labdeck.config import SCHEDULERS, Settings
from labdeck.srs import fsrs_step, sm2
from labdeck.srs.repo import fetch

if TYPE_CHECKING:
    import fsrs

META_PREFIX = "fsrs.parameters."
StepFn = Callable[[sm2.State, int], sm2.State]

_HISTORY = (
    "SELECT rl.card_id, rl.study_day, rl.quality FROM review_log rl "
    "JOIN card c ON c.id = rl.card_id WHERE rl.undone = 0 AND rl.mode != 'redrill' {where} "
    "ORDER BY rl.card_id, rl.id"
)


def _day(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def uses_fsrs(settings: Settings, deck_key: str) -> bool:
    return settings.deck_schedulers.get(deck_key, "sm2") == "fsrs"


def parameters(conn: Connection, deck_key: str) -> list[float] | None:
    """The deck's fitted FSRS parameters, or None for py-fsrs' defaults."""
    row = conn.execute(
        text("SELECT value FROM meta WHERE key = :k"), {"k": META_PREFIX + deck_key}
    ).first()
    return [float(x) for x in json.loads(row[0])] if row else None


def save_parameters(conn: Connection, deck_key: str, params: Sequence[float]) -> None:
    fsrs_step.make_scheduler(params)  # py-fsrs validates count and bounds
    conn.execute(
        text(
            "INSERT INTO meta (key, value) VALUES (:k, :v) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value"
        ),
        {"k": META_PREFIX + deck_key, "v": json.dumps([float(p) for p in params])},
    )


def deck_scheduler(conn: Connection, settings: Settings, deck_key: str) -> fsrs.Scheduler:
    return fsrs_step.make_scheduler(parameters(conn, deck_key), settings.desired_retention)


def card_history(conn: Connection, card_id: int) -> list[tuple[date, int]]:
    rows = conn.execute(text(_HISTORY.format(where="AND rl.card_id = :c")), {"c": card_id})
    return [(_day(day), int(q)) for _, day, q in rows]


def deck_histories(conn: Connection, deck_id: int) -> dict[int, list[tuple[date, int]]]:
    """Card id → its scheduled, not-undone answers (study day, quality), oldest first."""
    histories: dict[int, list[tuple[date, int]]] = {}
    rows = conn.execute(
        text(_HISTORY.format(where="AND c.deck_id = :d AND c.retired = 0")), {"d": deck_id}
    )
    for cid, day, q in rows:
        histories.setdefault(int(cid), []).append((_day(day), int(q)))
    return histories


def cards_histories(conn: Connection, card_ids: Sequence[int]) -> dict[int, list[tuple[date, int]]]:
    """Card id → its scheduled, not-undone answers, for these cards only (empty: none).

    Read on every queue build of a deck with an exam date (``exam_date.prioritise``): one
    range of ``ix_review_log_card_ts`` a card, without the join to ``card`` that the deck-wide
    read needs, run through the driver (``repo.fetch``)."""
    histories: dict[int, list[tuple[date, int]]] = {int(c): [] for c in card_ids}
    if histories:
        rows = fetch(
            conn,
            "SELECT rl.card_id, rl.study_day, rl.quality FROM review_log rl "
            f"WHERE rl.card_id IN ({','.join(str(c) for c in histories)}) "
            "AND rl.undone = 0 AND rl.mode != 'redrill' ORDER BY rl.card_id, rl.id",
        )
        for cid, day, q in rows:
            histories[int(cid)].append((_day(day), int(q)))
    return histories


def step_for(conn: Connection, settings: Settings, card_id: int, day: date) -> StepFn:
    """The scheduled-review step for this card on ``day``: ``sm2.next_state`` for an SM-2
    deck, else FSRS with the card's memory rebuilt from its history. ``Scheduler.answer``
    and ``Scheduler.intervals_preview`` both take their transition from here."""
    if "fsrs" not in settings.deck_schedulers.values():
        return sm2.next_state
    row = conn.execute(
        text("SELECT d.key FROM card c JOIN deck d ON d.id = c.deck_id WHERE c.id = :c"),
        {"c": card_id},
    ).first()
    if row is None or not uses_fsrs(settings, row[0]):
        return sm2.next_state
    return fsrs_step.Step(deck_scheduler(conn, settings, row[0]), card_history(conn, card_id), day)


@dataclass(frozen=True)
class Converted:
    deck: str
    scheduler: str
    cards: int  # cards whose state was rebuilt from their history
    reviews: int  # scheduled answers replayed (every review_log row is kept)


def convert(
    conn: Connection, settings: Settings, deck_id: int, deck_key: str, to: str
) -> Converted:
    """Rebuild the deck's card states for scheduler ``to`` from history (see module doc)."""
    if to not in SCHEDULERS:
        raise ValueError(f"scheduler must be one of {', '.join(SCHEDULERS)}, got {to!r}")
    histories = deck_histories(conn, deck_id)
    scheduler = fsrs_step.make_scheduler(parameters(conn, deck_key), settings.desired_retention)
    for cid, history in histories.items():
        state, due = fsrs_step.replay_sm2(history)
        interval = state.interval
        if to == "fsrs":
            card = fsrs_step.memory(scheduler, history)
            last = history[-1][0]
            due = card.due.date()
            interval = max(1, (due - last).days)
        conn.execute(
            text(
                "UPDATE card_state SET repetitions = :r, ease = :e, interval = :i, due = :due "
                "WHERE card_id = :c"
            ),
            {"r": state.repetitions, "e": state.ease_permille, "i": interval, "due": due, "c": cid},
        )
    return Converted(deck_key, to, len(histories), sum(len(h) for h in histories.values()))


@dataclass(frozen=True)
class DeckRetrievability:
    deck: str
    scheduler: str  # sm2 | fsrs
    cards: int  # cards with scheduled answers
    mean: float | None  # mean predicted probability of recall today

    def to_dict(self) -> dict[str, object]:
        return {
            "deck": self.deck,
            "scheduler": self.scheduler,
            "cards": self.cards,
            "mean": self.mean,
        }


def retrievability(
    conn: Connection, settings: Settings, decks: Iterable[tuple[int, str]], day: date
) -> list[DeckRetrievability]:
    """Per deck: FSRS's predicted retrievability on ``day``, averaged over reviewed cards.

    Computed for SM-2 decks too (FSRS's model of the same history, the deck's parameters or
    py-fsrs' defaults), so the two schedulers can be compared on one scale."""
    result = []
    for deck_id, key in decks:
        scheduler = deck_scheduler(conn, settings, key)
        values = [
            fsrs_step.retrievability(scheduler, fsrs_step.memory(scheduler, h), day)
            for h in deck_histories(conn, deck_id).values()
        ]
        known = [v for v in values if v is not None]
        mean = sum(known) / len(known) if known else None
        result.append(
            DeckRetrievability(key, settings.deck_schedulers.get(key, "sm2"), len(known), mean)
        )
    return result

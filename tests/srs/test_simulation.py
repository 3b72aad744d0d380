"""A simulated multi-day study run (fixed clock, Python API) against a plain-Python model of
the rules: queue order, limits, re-drill, rollover hour, leech suspension and undo."""

from __future__ import annotations

import random
import sqlite3
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from labdeck.srs import sm2
from labdeck.srs.scheduler import REDRILL_GAP
from labdeck.store import Store

from .conftest import START, Clock, make

ROLLOVER = 4
NEW_PER_DAY, REVIEWS_PER_DAY = 4, 6
DECK_LIMITS = {"alpha": {"new_per_day": 2, "reviews_per_day": 4}}
LEECH, EVERY = 3, 2


@dataclass(frozen=True)
class Card:
    id: int
    key: str
    deck: str
    order: tuple[int, int, int]  # deck position, chapter position, card position
    state: sm2.State = field(default_factory=sm2.State)
    due: date | None = None
    lapses: int = 0
    leech: bool = False
    suspended: bool = False
    buried_until: date | None = None


@dataclass
class Answer:
    card: int
    quality: int
    mode: str
    day: date
    was_new: bool
    before: Card
    undone: bool = False


@dataclass
class CardOp:
    """An unsuspend or bury: the card as it was, and how many answers were logged by then."""

    card: int
    before: Card
    after: int


class Model:
    def __init__(self, cards: list[Card]) -> None:
        self.cards = {c.id: c for c in cards}
        self.log: list[Answer] = []
        self.ops: list[CardOp] = []

    def card_op(self, card: Card, new: Card) -> None:
        self.ops.append(CardOp(card.id, card, len(self.log)))
        self.cards[card.id] = new

    @staticmethod
    def study_day(moment: datetime) -> date:
        return (moment - timedelta(hours=ROLLOVER)).date()

    def limits(self, deck: str) -> tuple[int, int]:
        own = DECK_LIMITS.get(deck, {})
        return own.get("new_per_day", NEW_PER_DAY), own.get("reviews_per_day", REVIEWS_PER_DAY)

    def queue(self, day: date) -> list[tuple[str, str]]:
        today = [a for a in self.log if a.day == day and not a.undone]
        new_done = {d: 0 for d in ("alpha", "beta")}
        rev_done = {d: 0 for d in ("alpha", "beta")}
        for a in today:
            if a.mode == "review":
                deck = self.cards[a.card].deck
                (new_done if a.was_new else rev_done)[deck] += 1
        active = [
            c
            for c in self.cards.values()
            if not c.suspended and (c.buried_until is None or c.buried_until <= day)
        ]
        shown = {c.id for c in active}
        due = [c for c in active if c.due is not None and c.due <= day]
        due.sort(key=lambda c: (c.due, c.id))
        reviews, left = [], REVIEWS_PER_DAY - sum(rev_done.values())
        taken = {d: 0 for d in new_done}
        for c in due:
            if len(reviews) < left and taken[c.deck] < self.limits(c.deck)[1] - rev_done[c.deck]:
                reviews.append(c)
                taken[c.deck] += 1
        scheduled = {a.card for a in today if a.mode != "redrill"}
        latest: dict[int, tuple[int, int]] = {}
        for i, a in enumerate(today):
            latest[a.card] = (i, a.quality)
        redrill = sorted(
            (cid for cid, (_, q) in latest.items() if q < 4 and cid in scheduled),
            key=lambda cid: latest[cid][0],
        )
        redrill = [cid for cid in redrill if cid in shown]
        # a re-drill's turn comes after REDRILL_GAP answers to other cards
        ready = [cid for cid in redrill if len(today) - 1 - latest[cid][0] >= REDRILL_GAP]
        waiting = [cid for cid in redrill if cid not in ready]
        fresh = sorted((c for c in active if c.due is None), key=lambda c: c.order)
        new, budget = [], NEW_PER_DAY - sum(new_done.values())
        taken = {d: 0 for d in new_done}
        for c in fresh:
            if len(new) < budget and taken[c.deck] < self.limits(c.deck)[0] - new_done[c.deck]:
                new.append(c)
                taken[c.deck] += 1
        return (
            [(c.key, "review") for c in reviews]
            + [(self.cards[cid].key, "redrill") for cid in ready]
            + [(c.key, "new") for c in new]
            + [(self.cards[cid].key, "redrill") for cid in waiting]
        )

    def answer(self, cid: int, q: int, day: date) -> None:
        card = self.cards[cid]
        scheduled = any(
            a.card == cid and a.day == day and not a.undone and a.mode != "redrill"
            for a in self.log
        )
        mode = "redrill" if scheduled else "review"
        self.log.append(Answer(cid, q, mode, day, card.due is None, card))
        if mode == "redrill":
            return
        state = sm2.next_state(card.state, q)
        new = replace(card, state=state, due=day + timedelta(days=state.interval))
        if q < 3 and (card.state.repetitions > 0 or card.lapses > 0):
            lapses = card.lapses + 1
            new = replace(new, lapses=lapses)
            if lapses == LEECH or (lapses > LEECH and (lapses - LEECH) % EVERY == 0):
                new = replace(new, leech=True, suspended=True)
        self.cards[cid] = new

    def undo(self) -> str | None:
        """Undo the newest of the last answer and the last card operation (issue 14)."""
        latest = max((i + 1 for i, a in enumerate(self.log) if not a.undone), default=0)
        if self.ops and self.ops[-1].after >= latest:
            op = self.ops.pop()
            now = self.cards[op.card]
            self.cards[op.card] = replace(
                now, suspended=op.before.suspended, buried_until=op.before.buried_until
            )
            return op.before.key
        for a in reversed(self.log):
            if not a.undone:
                a.undone = True
                # undo restores the schedule (and suspension); burial is not an answer
                self.cards[a.card] = replace(a.before, buried_until=self.cards[a.card].buried_until)
                return a.before.key
        return None


def db_cards(store: Store) -> dict[int, tuple]:
    with sqlite3.connect(store.path) as conn:
        return {
            r[0]: r[1:]
            for r in conn.execute(
                "SELECT card_id, repetitions, ease, interval, due, lapses, leech, suspended, "
                "buried_until FROM card_state"
            )
        }


def model_cards(model: Model) -> dict[int, tuple]:
    return {
        c.id: (
            c.state.repetitions,
            c.state.ease_permille,
            c.state.interval,
            c.due.isoformat() if c.due else None,
            c.lapses,
            int(c.leech),
            int(c.suspended),
            c.buried_until.isoformat() if c.buried_until else None,
        )
        for c in model.cards.values()
    }


def test_simulated_month(store: Store, two_decks: tuple[str, str], clock: Clock) -> None:
    sched = make(
        store,
        clock,
        new_per_day=NEW_PER_DAY,
        reviews_per_day=REVIEWS_PER_DAY,
        deck_limits=DECK_LIMITS,
        rollover_hour=ROLLOVER,
        leech_threshold=LEECH,
        leech_every=EVERY,
    )
    with sqlite3.connect(store.path) as conn:
        rows = conn.execute(
            "SELECT c.id, c.key, d.key, d.position, ch.position, c.position FROM card c "
            "JOIN deck d ON d.id = c.deck_id JOIN chapter ch ON ch.id = c.chapter_id"
        ).fetchall()
    model = Model([Card(r[0], r[1], r[2], (r[3], r[4], r[5])) for r in rows])
    rng = random.Random(3)
    answers = undos = leeches = redrills = buries = 0
    base = datetime.combine(START.date(), datetime.min.time())
    for day_no in range(40):
        if rng.random() < 0.15:
            continue  # a day off: reviews pile up
        # a session from 05:00 to the next night's 03:00 (still the same study day)
        moment = base + timedelta(days=day_no, hours=5 + rng.randint(0, 4))
        end = base + timedelta(days=day_no + 1, hours=3, minutes=30)
        for _step in range(40):
            clock.set(moment)
            day = model.study_day(moment)
            assert sched.today() == day
            expected = model.queue(day)
            assert [(e.key, e.kind) for e in sched.queue()] == expected, (day_no, _step)
            for deck in (None, "alpha", "beta"):
                shown = [e.kind for e in sched.queue(deck=deck)]
                total = sched.totals(deck)
                assert (total.new, total.learning, total.due) == tuple(
                    shown.count(k) for k in ("new", "redrill", "review")
                )
            if not expected:
                break
            if rng.random() < 0.05:
                # the learner lifts a leech's suspension or buries the next card
                suspended = [c for c in model.cards.values() if c.suspended]
                if suspended:
                    sched.unsuspend(suspended[0].key)
                    model.card_op(suspended[0], replace(suspended[0], suspended=False))
                elif rng.random() < 0.5:
                    c = model.cards[sched.next_card().card_id]  # type: ignore[union-attr]
                    assert sched.bury(c.id) == day + timedelta(days=1)
                    model.card_op(c, replace(c, buried_until=day + timedelta(days=1)))
                    buries += 1
            elif rng.random() < 0.12 and (model.log or model.ops):
                undone = sched.undo()
                assert undone is not None and undone.key == model.undo()
                undos += 1
            else:
                entry = sched.next_card()
                assert entry is not None and entry.key == expected[0][0]
                q = rng.choices(range(6), weights=(1, 1, 2, 3, 4, 3))[0]
                out = sched.answer(entry.card_id, q)
                model.answer(entry.card_id, q, day)
                answers += 1
                leeches += out.became_leech
                redrills += out.mode == "redrill"
            moment = min(end, moment + timedelta(minutes=rng.randint(1, 90)))
        assert db_cards(store) == model_cards(model), day_no
    counted = (answers, undos, leeches, redrills, buries)
    assert answers > 150 and undos > 20 and leeches >= 3 and redrills > 50 and buries, counted

"""Composing a mock exam: resolve the scope, allocate questions to chapters, draw cards.

Questions are spread over the chosen chapters in proportion to how many eligible cards each
holds (largest-remainder apportionment, at least one per chapter when there are enough
questions). Within a chapter cards are drawn uniformly, or — with ``favour_weak`` — with weights
that grow for cards never answered, with a low E-Factor or with recent lapses. Everything random
comes from one ``random.Random(seed)`` walked in a fixed order, so a seed reproduces the exam.

A new exam composed without a seed does not repeat what the last ``RECENT_EXAMS`` sittings
asked while a chapter has other cards to draw: each chapter's share is drawn from the cards
none of them asked, and only where those run out from the asked ones, the longest ago first.
(With a seed given the draw ignores history: the same seed, the same exam.)
"""

from __future__ import annotations

import math
import random
import re
import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from labdeck import clock as clock_mod
from labdeck.exam import ExamError
from labdeck.store import Store
from labdeck.store.models import Card, CardState, Chapter, Deck, Exam, ExamQuestion, ReviewLog

DEFAULT_QUESTIONS = 10
DEFAULT_SECONDS_PER_QUESTION = 120
RECENT_LAPSE_DAYS = 30
MAX_QUESTIONS = 200
RECENT_EXAMS = 3  # a new exam avoids the questions of this many latest exams


@dataclass
class ExamSpec:
    """What the learner asked for. Empty ``decks`` and ``chapters`` mean every deck."""

    decks: list[str] = field(default_factory=list)
    chapters: list[str] = field(default_factory=list)
    n: int = DEFAULT_QUESTIONS
    seed: int | None = None
    time_per_question_s: int | None = DEFAULT_SECONDS_PER_QUESTION
    total_time_s: int | None = None
    favour_weak: bool = False
    include_self_graded: bool = False
    # card types to draw: essays by default; drills (cloze, choice, truefalse) on request
    kinds: list[str] = field(default_factory=lambda: ["essay"])

    def time_limit_for(self, n_questions: int) -> int:
        """Seconds for the whole exam (0 = untimed)."""
        if self.total_time_s is not None:
            return max(0, int(self.total_time_s))
        per = self.time_per_question_s
        return max(0, int(per if per is not None else DEFAULT_SECONDS_PER_QUESTION)) * n_questions


@dataclass
class ScopeChapter:
    deck_key: str
    deck_name: str
    chapter_id: int
    code: str
    title: str


@dataclass
class Candidate:
    card_id: int
    key: str
    chapter: str
    self_graded: bool
    weight: float = 1.0


# ---------------------------------------------------------------- scope


_CODE = re.compile(r"^([A-Za-z]+)0*(\d+)$")


def normalise_code(code: str) -> str:
    """``b01`` → ``B1``; anything else upper-cased."""
    code = code.strip()
    m = _CODE.match(code)
    if m:
        return f"{m.group(1).upper()}{int(m.group(2))}"
    return code.upper()


def _fold(text: str) -> str:
    return re.sub(r"[\s\-_·.]+", "", text.casefold())


def parse_chapter_list(text: str | list[str] | None) -> list[str]:
    """Split ``"B1,B3-B5 C2"`` into codes; ranges (``-``, ``–``, ``..``) stay as ``"B3..B5"``."""
    if not text:
        return []
    items = text if isinstance(text, list) else [text]
    out: list[str] = []
    for item in items:
        for part in re.split(r"[,\s]+", item.strip()):
            if not part:
                continue
            bounds = re.split(r"\.\.|–|—|-", part)
            if len(bounds) == 2 and all(bounds):
                out.append(f"{normalise_code(bounds[0])}..{normalise_code(bounds[1])}")
            elif len(bounds) == 1:
                out.append(normalise_code(part))
            else:
                raise ExamError(f"cannot read chapter {part!r}; use codes like B1,B2 or B1-B14")
    return out


def _match_deck(decks: list[Deck], wanted: str) -> Deck:
    folded = _fold(wanted)
    for deck in decks:
        names = [deck.key, deck.name, *deck.aliases]
        if any(_fold(n) == folded for n in names):
            return deck
    known = ", ".join(d.key for d in decks) or "none"
    raise ExamError(f"unknown deck {wanted!r}; decks: {known}")


def resolve_scope(session: Session, decks: list[str], chapters: list[str]) -> list[ScopeChapter]:
    """The chapters an exam covers, in syllabus order."""
    all_decks = list(session.exec(select(Deck).order_by(col(Deck.position), col(Deck.key))).all())
    rows = session.exec(
        select(Chapter, Deck)
        .join(Deck, col(Deck.id) == col(Chapter.deck_id))
        .order_by(col(Deck.position), col(Deck.key), col(Chapter.position), col(Chapter.code))
    ).all()
    ordered = [
        ScopeChapter(d.key, d.name, c.id or 0, c.code, c.title) for c, d in rows if c.id is not None
    ]
    chosen_decks = {_match_deck(all_decks, name).key for name in decks}
    pool = [c for c in ordered if not chosen_decks or c.deck_key in chosen_decks]
    if not chapters:
        return pool
    index = {c.code: i for i, c in enumerate(pool)}
    picked: set[int] = set()
    for token in parse_chapter_list(chapters):
        if ".." in token:
            lo, hi = token.split("..")
            for code in (lo, hi):
                if code not in index:
                    raise _unknown_chapter(code, chosen_decks)
            a, b = sorted((index[lo], index[hi]))
            if pool[a].deck_key != pool[b].deck_key:
                raise ExamError(f"chapter range {lo}-{hi} spans two decks")
            picked.update(range(a, b + 1))
        elif token in index:
            picked.add(index[token])
        else:
            raise _unknown_chapter(token, chosen_decks)
    return [pool[i] for i in sorted(picked)]


def _unknown_chapter(code: str, decks: set[str]) -> ExamError:
    where = f" in deck {', '.join(sorted(decks))}" if decks else ""
    return ExamError(f"unknown chapter {code!r}{where}")


def scope_label(scope: list[ScopeChapter], all_by_deck: dict[str, list[str]]) -> str:
    """Short human label: ``exam-b (all)``, ``exam-b B1–B5``, ``exam-b B2, B7; exam-c C1``."""
    parts = []
    by_deck: dict[str, list[str]] = {}
    for ch in scope:
        by_deck.setdefault(ch.deck_key, []).append(ch.code)
    for deck, codes in by_deck.items():
        full = all_by_deck.get(deck, [])
        if codes == full:
            parts.append(f"{deck} (all)")
            continue
        positions = [full.index(c) for c in codes if c in full]
        contiguous = len(positions) == len(codes) and positions == list(
            range(positions[0], positions[0] + len(positions))
        )
        if len(codes) > 2 and contiguous:
            parts.append(f"{deck} {codes[0]}–{codes[-1]}")
        else:
            parts.append(f"{deck} {', '.join(codes)}")
    return "; ".join(parts) or "(empty)"


# ---------------------------------------------------------------- allocation


def allocate(sizes: dict[str, int], n: int, rng: random.Random) -> dict[str, int]:
    """Split ``n`` questions over chapters in proportion to ``sizes`` (dict order is kept).

    Largest-remainder apportionment; when ``n`` is at least the number of chapters every chapter
    gets one. With fewer questions than chapters, chapters are sampled (weighted by size).
    """
    keys = [k for k, s in sizes.items() if s > 0]
    total = sum(sizes[k] for k in keys)
    n = max(0, min(n, total))
    alloc = dict.fromkeys(sizes, 0)
    if n == 0:
        return alloc
    if n < len(keys):
        # Efraimidis–Spirakis weighted sampling without replacement
        scored = sorted(keys, key=lambda k: -(rng.random() ** (1.0 / sizes[k])))
        for k in scored[:n]:
            alloc[k] = 1
        return alloc
    quotas = {k: n * sizes[k] / total for k in keys}
    for k in keys:
        alloc[k] = math.floor(quotas[k])
    ties = {k: rng.random() for k in keys}
    left = n - sum(alloc.values())
    for k in sorted(keys, key=lambda k: (-(quotas[k] - alloc[k]), ties[k]))[:left]:
        alloc[k] += 1
    for k in keys:
        if alloc[k] == 0:
            donor = max(
                (d for d in keys if alloc[d] > 1),
                key=lambda d: (alloc[d] - quotas[d], -ties[d]),
            )
            alloc[donor] -= 1
            alloc[k] = 1
    return alloc


def _weighted_sample(items: list[Candidate], k: int, rng: random.Random) -> list[Candidate]:
    keyed = [(rng.random() ** (1.0 / max(c.weight, 1e-6)), i) for i, c in enumerate(items)]
    keyed.sort(key=lambda pair: (-pair[0], pair[1]))
    return [items[i] for _, i in keyed[:k]]


def weakness_weights(session: Session, card_ids: list[int], now: datetime) -> dict[int, float]:
    """Weight per card: 1, plus more for never answered, low E-Factor and recent lapses."""
    if not card_ids:
        return {}
    states = {
        s.card_id: s
        for s in session.exec(select(CardState).where(col(CardState.card_id).in_(card_ids))).all()
    }
    since = now - timedelta(days=RECENT_LAPSE_DAYS)
    recent = dict(
        session.exec(
            select(col(ReviewLog.card_id), func.count(col(ReviewLog.id)))
            .where(col(ReviewLog.card_id).in_(card_ids))
            .where(ReviewLog.quality < 3)
            .where(ReviewLog.undone == False)
            .where(ReviewLog.ts >= since)
            .group_by(col(ReviewLog.card_id))
        ).all()
    )
    weights = {}
    for cid in card_ids:
        state = states.get(cid)
        w = 1.0
        if state is None or state.reviews == 0:
            w += 4.0
        else:
            w += max(0, 2500 - state.ease) / 100.0  # E-Factor 1.3 adds 12
            w += 0.5 * min(state.lapses, 6)
        w += 3.0 * recent.get(cid, 0)
        weights[cid] = w
    return weights


# ---------------------------------------------------------------- compose


@dataclass
class ComposedExam:
    exam_id: int
    seed: int
    time_limit_s: int
    scope_label: str
    card_keys: list[str]
    requested: int
    available: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def recently_asked(session: Session, exams: int = RECENT_EXAMS) -> dict[int, int]:
    """Card id → how recent the latest of the last ``exams`` exams that asked it is (0: the
    newest exam)."""
    latest = session.exec(select(col(Exam.id)).order_by(col(Exam.id).desc()).limit(exams)).all()
    rank = {exam_id: i for i, exam_id in enumerate(latest)}
    asked: dict[int, int] = {}
    if not rank:
        return asked
    rows = session.exec(
        select(col(ExamQuestion.card_id), col(ExamQuestion.exam_id)).where(
            col(ExamQuestion.exam_id).in_(list(rank))
        )
    ).all()
    for card_id, exam_id in rows:
        asked[card_id] = min(asked.get(card_id, exams), rank[exam_id])
    return asked


def _pick(
    pool: list[Candidate], k: int, rng: random.Random, weighted: bool, asked: dict[int, int]
) -> list[Candidate]:
    """``k`` of ``pool``: from the cards not recently asked while there are enough, then the
    asked ones, the longest ago first (ties drawn at random)."""
    fresh = [c for c in pool if c.card_id not in asked]
    if len(fresh) >= k:
        return _weighted_sample(fresh, k, rng) if weighted else rng.sample(fresh, k)
    again = [c for c in pool if c.card_id in asked]
    order = {c.card_id: (-asked[c.card_id], rng.random()) for c in again}
    again.sort(key=lambda c: order[c.card_id])
    return fresh + again[: k - len(fresh)]


def draw(
    session: Session,
    spec: ExamSpec,
    seed: int,
    now: datetime,
    asked: dict[int, int] | None = None,
) -> tuple[list[ScopeChapter], list[Candidate], int]:
    """Pick the cards for ``spec`` (syllabus order), avoiding ``asked`` (``recently_asked``)
    where a chapter has other cards. Returns scope, picks and pool size."""
    scope = resolve_scope(session, spec.decks, spec.chapters)
    if not scope:
        raise ExamError("the chosen scope has no chapters")
    chapter_ids = [c.chapter_id for c in scope]
    code_of = {c.chapter_id: c.code for c in scope}
    cards = session.exec(
        select(Card)
        .where(col(Card.chapter_id).in_(chapter_ids))
        .where(Card.retired == False)
        .order_by(col(Card.position), col(Card.key))
    ).all()
    pools: dict[str, list[Candidate]] = {c.code: [] for c in scope}
    for card in cards:
        if card.kind not in spec.kinds:
            continue
        has_ref = bool((card.answer or "").strip())
        if not has_ref and not spec.include_self_graded:
            continue
        pools[code_of[card.chapter_id]].append(
            Candidate(card.id or 0, card.key, code_of[card.chapter_id], not has_ref)
        )
    available = sum(len(p) for p in pools.values())
    if available == 0:
        hint = "" if spec.include_self_graded else " (cards without a reference answer excluded)"
        raise ExamError(f"no cards to draw from in the chosen scope{hint}")
    if spec.favour_weak:
        weights = weakness_weights(session, [c.card_id for p in pools.values() for c in p], now)
        for pool in pools.values():
            for cand in pool:
                cand.weight = weights.get(cand.card_id, 1.0)
    rng = random.Random(seed)
    alloc = allocate({code: len(p) for code, p in pools.items()}, spec.n, rng)
    picks: list[Candidate] = []
    for chapter in scope:
        pool = pools[chapter.code]
        k = alloc.get(chapter.code, 0)
        if k == 0:
            continue
        chosen = _pick(pool, k, rng, spec.favour_weak, asked or {})
        order = {c.card_id: i for i, c in enumerate(pool)}
        picks.extend(sorted(chosen, key=lambda c: order[c.card_id]))
    return scope, picks, available


def last_spec(store: Store) -> ExamSpec | None:
    """The settings of the newest exam composed, to start the next one from (the seed left
    out: a new exam draws anew); None when there is none or its settings are unreadable."""
    with store.session() as session:
        latest = session.exec(select(Exam).order_by(col(Exam.id).desc()).limit(1)).first()
    if latest is None:
        return None
    known = {f for f in ExamSpec.__dataclass_fields__ if f != "seed"}
    try:
        return ExamSpec(**{k: v for k, v in dict(latest.settings).items() if k in known})
    except TypeError:
        return None


def create_exam(
    store: Store, spec: ExamSpec, *, now: Callable[[], datetime] = clock_mod.now
) -> ComposedExam:
    """Compose and store a new exam (status ``sitting``; the clock starts when it is sat)."""
    if spec.n < 1:
        raise ExamError("an exam needs at least one question")
    if spec.n > MAX_QUESTIONS:
        raise ExamError(f"at most {MAX_QUESTIONS} questions per exam")
    for name in ("time_per_question_s", "total_time_s"):
        value = getattr(spec, name)
        if value is not None and value < 0:
            raise ExamError("time limits cannot be negative")
    seed = spec.seed if spec.seed is not None else secrets.randbelow(100_000)
    moment = now()
    with store.session() as session:
        asked = recently_asked(session) if spec.seed is None else None
        scope, picks, available = draw(session, spec, seed, moment, asked)
        all_by_deck: dict[str, list[str]] = {}
        for c in resolve_scope(session, [], []):
            all_by_deck.setdefault(c.deck_key, []).append(c.code)
        label = scope_label(scope, all_by_deck)
        limit = spec.time_limit_for(len(picks))
        settings = asdict(spec)
        settings["seed"] = seed
        exam = Exam(
            created_at=moment,
            scope={
                "decks": sorted({c.deck_key for c in scope}),
                "chapters": [c.code for c in scope],
                "label": label,
            },
            settings=settings,
            seed=seed,
            time_limit_s=limit,
            status="sitting",
        )
        session.add(exam)
        session.flush()
        assert exam.id is not None
        for i, cand in enumerate(picks, start=1):
            session.add(
                ExamQuestion(
                    exam_id=exam.id,
                    card_id=cand.card_id,
                    position=i,
                    self_graded=cand.self_graded,
                )
            )
        exam_id = exam.id
    return ComposedExam(
        exam_id=exam_id,
        seed=seed,
        time_limit_s=limit,
        scope_label=label,
        card_keys=[c.key for c in picks],
        requested=spec.n,
        available=available,
    )

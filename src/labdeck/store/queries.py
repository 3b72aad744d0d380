"""Read-side queries shared by the CLI and the TUI (plain data, no UI)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import text as sql

from labdeck.store.db import Store


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
    """The decks with live cards, in deck order, each with its chapters that have live cards
    and their counts by kind. Plain SQL: Browse reads this while Home is idle, before the
    start-up chores import SQLModel and the ORM models."""
    with store.engine.connect() as conn:
        kinds: dict[int, dict[str, int]] = {}  # by chapter id
        for chapter_id, kind, n in conn.execute(
            sql(
                "SELECT chapter_id, kind, count(id) FROM card WHERE retired = 0 "
                "GROUP BY chapter_id, kind"
            )
        ):
            kinds.setdefault(int(chapter_id), {})[str(kind)] = int(n)
        chapters: dict[int, list[ChapterInfo]] = {}
        for deck_id, code, title, title_zh, chapter_id in conn.execute(
            sql("SELECT deck_id, code, title, title_zh, id FROM chapter ORDER BY position, id")
        ):
            by_kind = kinds.get(int(chapter_id), {})
            if by_kind:
                chapters.setdefault(int(deck_id), []).append(
                    ChapterInfo(code, title, sum(by_kind.values()), title_zh, by_kind)
                )
        decks = []
        for deck_id, key, name, description, source in conn.execute(
            sql("SELECT id, key, name, description, source FROM deck ORDER BY position, key")
        ):
            own = chapters.get(int(deck_id), [])
            if own:
                decks.append(
                    DeckInfo(key, name, description, source, sum(c.cards for c in own), own)
                )
        return decks


def list_cards(
    store: Store,
    deck: str | None = None,
    chapter: str | None = None,
    *,
    include_retired: bool = False,
    kind: str | None = None,
) -> list[CardInfo]:
    from sqlalchemy.orm import aliased
    from sqlmodel import Session, col, select

    from labdeck.store.models import Card, Chapter, Deck

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


# a fuzzy match at least this close (rapidfuzz's 0-100) counts when no card contains the query
FUZZY_MIN = 70


def search_cards(cards: list[CardInfo], query: str, limit: int = 50) -> list[CardInfo]:
    """Search over prompts (weighted higher), Chinese prompts, keys, tags, answers and notes:
    the cards whose text contains the query, when any does; else the closest by fuzzy match
    (a typo), the query matched within each field. (``partial_ratio`` aligns the shorter
    string within the longer: a one-character answer "1" scored 100 against "FILE-UPDATE-1",
    so a field shorter than the query is compared whole.)"""
    from rapidfuzz import fuzz

    needle = query.strip().casefold()
    if not needle:
        return cards[:limit]
    exact: list[tuple[float, CardInfo]] = []
    close: list[tuple[float, CardInfo]] = []
    for card in cards:
        fields = [
            (card.prompt, 1.0),
            (card.prompt_zh or "", 1.0),
            (card.key, 0.9),
            (" ".join(card.tags), 0.9),
            (card.answer or "", 0.85),
            (card.notes or "", 0.8),
        ]
        found = fuzzy = 0.0
        for text, weight in fields:
            hay = text.casefold()
            if not hay:
                continue
            if needle in hay:
                found = max(found, weight)
            elif not exact:  # fuzzy scores only matter while no card contains the query
                match = fuzz.partial_ratio if len(hay) >= len(needle) else fuzz.ratio
                fuzzy = max(fuzzy, match(needle, hay) * weight)
        if found:
            exact.append((found, card))
        elif fuzzy >= FUZZY_MIN:
            close.append((fuzzy, card))
    scored = exact or close
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
        """One word for a table: suspended, leech, new, buried, due, or review (scheduled for a
        later day, as Anki calls it; it said "learning", the word Home's counts use for today's
        re-drills)."""
        if self.suspended:
            return "leech·susp" if self.leech else "suspended"
        if self.leech:
            return "leech"
        if self.buried(today):  # a new card buried with its sibling, too: is:buried finds it
            return "buried"
        if self.due is None:
            return "new"
        return "due" if self.is_due(today) else "review"


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
    sure: bool | None = None  # the grader's verdict on ``suggested`` (None: not graded)


def review_history(store: Store, card_id: int) -> list[ReviewEntry]:
    """A card's answers, oldest first (undone ones included, flagged)."""
    with store.engine.connect() as conn:
        result = conn.execute(
            sql(
                "SELECT ts, study_day, mode, quality, score, suggested, prev_interval, "
                "new_interval, new_due, undone, sure FROM review_log WHERE card_id = :c "
                "ORDER BY id"
            ),
            {"c": card_id},
        )
        return [
            ReviewEntry(
                r[0],
                r[1],
                r[2],
                int(r[3]),
                r[4],
                r[5],
                int(r[6]),
                int(r[7]),
                r[8],
                bool(r[9]),
                None if r[10] is None else bool(r[10]),
            )
            for r in result
        ]


# ---------------------------------------------------------------- Browse: query, sort, page


BROWSE_LIMIT = 2000  # rows handed to the table at once; the count covers every match

# sort column -> its SQL terms (ties fall back to the deck / chapter / content order)
_DEFAULT_ORDER = ("d.position", "d.key", "ch.position", "c.position", "c.id")
_STATE_RANK = (
    "CASE WHEN coalesce(cs.suspended, 0) = 1 THEN 5 WHEN coalesce(cs.leech, 0) = 1 THEN 4 "
    "WHEN cs.buried_until > :today THEN 3 WHEN cs.due IS NULL THEN 1 "
    "{learn}WHEN cs.due <= :today THEN 0 ELSE 2 END"  # {learn}: as BrowseRow.state reads it
)
# a card kind as Browse's type column, ``type:`` and ``labdeck decks`` name it (the column
# sorts by this label, not the kind); Browse said "mc" where ``type:`` says "choice"
KIND_LABELS = {"essay": "essay", "cloze": "cloze", "choice": "choice", "truefalse": "tf"}
_KIND_LABEL = (
    "CASE coalesce(c.kind, 'essay') "
    + " ".join(f"WHEN '{kind}' THEN '{label}'" for kind, label in KIND_LABELS.items())
    + " ELSE c.kind END"
)
# a card never answered shows "—" for due, EF and interval: those sort after the rest
_UNANSWERED = "cs.due IS NULL"
SORTS: dict[str, tuple[str, ...]] = {
    "": _DEFAULT_ORDER,
    "deck": ("d.key",),
    "ch": ("d.position", "d.key", "ch.position"),
    "type": (_KIND_LABEL, "o.card_id IS NOT NULL"),  # "essay" before "essay*" (edited)
    "prompt": ("c.prompt COLLATE NOCASE",),
    "state": (_STATE_RANK,),
    "due": (_UNANSWERED, "cs.due"),
    "ef": (_UNANSWERED, "coalesce(cs.ease, 2500)"),
    "ivl": (_UNANSWERED, "coalesce(cs.interval, 0)"),
    "lapses": ("coalesce(cs.lapses, 0)",),
}

_FROM = (
    "FROM card c JOIN deck d ON d.id = c.deck_id JOIN chapter ch ON ch.id = c.chapter_id "
    "LEFT JOIN card_state cs ON cs.card_id = c.id "
    "LEFT JOIN card_override o ON o.card_id = c.id "
)

_STATE_SQL = {
    "new": "(cs.due IS NULL AND coalesce(cs.suspended, 0) = 0)",
    "due": "(coalesce(cs.suspended, 0) = 0 AND cs.due IS NOT NULL AND cs.due <= :today "
    "AND (cs.buried_until IS NULL OR cs.buried_until <= :today))",
    "suspended": "(coalesce(cs.suspended, 0) = 1)",
    "leech": "(coalesce(cs.leech, 0) = 1)",
    "buried": "(cs.buried_until IS NOT NULL AND cs.buried_until > :today)",
    "edited": "(o.card_id IS NOT NULL)",
}
_STUDIABLE = (
    "(coalesce(cs.suspended, 0) = 0 AND (cs.buried_until IS NULL OR cs.buried_until <= :today))"
)


def learning_sql(learning: Collection[int]) -> str:
    """``c.id`` among today's re-drills (ids, not a parameter: the set is a day's answers)."""
    return f"c.id IN ({','.join(str(int(i)) for i in sorted(learning)) or 'NULL'})"


_TEXT_COLUMNS = ("c.prompt", "c.prompt_zh", "c.answer", "c.notes")


@dataclass
class BrowseRow:
    """One card as Browse's table shows it (the detail pane reads the whole card)."""

    id: int
    key: str
    deck: str
    chapter: str
    kind: str
    prompt: str
    edited: bool
    schedule: CardSchedule
    learning: bool = False  # one of today's re-drills (``srs.queue.redrill_ids``)

    def state(self, today: date) -> str:
        """The state column's word: the schedule's, or "learn" for a card re-drilled today
        (Home's word; its schedule says "review", for its next day)."""
        state = self.schedule.state(today)
        return "learn" if self.learning and state in ("review", "due") else state


@dataclass
class BrowsePage:
    rows: list[BrowseRow]
    matching: int  # every card the query matches (rows holds at most ``limit`` of them)
    total: int  # every live card


def _like(value: str) -> str:
    """A LIKE pattern for ``value`` anywhere (``%``, ``_`` and ``\\`` taken literally)."""
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _glob_like(value: str) -> str:
    """A whole-value LIKE pattern where ``*`` is the only wildcard."""
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%")


class _Compiler:
    """A parsed query as one SQL condition with its parameters. Deck and chapter names are
    resolved against the (few) decks and chapters first, so the card scan filters by the
    indexed ``deck_id`` / ``chapter_id``."""

    def __init__(self, conn: Any, today: date, learning: Collection[int] = ()) -> None:
        self.conn, self.params = conn, {"today": today.isoformat()}
        self.learning = learning
        self._decks: list[tuple[int, list[str]]] | None = None
        self._chapters: list[tuple[int, str]] | None = None

    def param(self, value: Any) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f":{name}"

    def decks(self) -> list[tuple[int, list[str]]]:
        if self._decks is None:
            self._decks = []
            for deck_id, key, name, aliases in self.conn.execute(
                sql("SELECT id, key, name, aliases FROM deck")
            ):
                names = [key, name, *_json_list(aliases)]
                self._decks.append((int(deck_id), [n.casefold() for n in names if n]))
        return self._decks

    def chapters(self) -> list[tuple[int, str]]:
        if self._chapters is None:
            rows = self.conn.execute(sql("SELECT id, code FROM chapter"))
            self._chapters = [(int(i), str(code).casefold()) for i, code in rows]
        return self._chapters

    def where(self, node: Any) -> str:
        from fnmatch import fnmatchcase

        from labdeck.store import browse_query as q

        if isinstance(node, q.All):
            return (
                "(" + " AND ".join(self.where(n) for n in node.nodes) + ")" if node.nodes else "1"
            )
        if isinstance(node, q.Any_):
            return "(" + " OR ".join(self.where(n) for n in node.nodes) + ")"
        if isinstance(node, q.Not):
            return f"(NOT {self.where(node.node)})"
        if isinstance(node, q.Text):
            return self.text(node.value)
        name, value = node.name, node.value
        if name == "deck":
            wanted = value.casefold()
            ids_ = [i for i, names in self.decks() if any(fnmatchcase(n, wanted) for n in names)]
            return f"(c.deck_id IN ({','.join(map(str, ids_)) or 'NULL'}))"
        if name == "chapter":
            wanted = value.casefold()
            ids_ = [i for i, code in self.chapters() if fnmatchcase(code, wanted)]
            return f"(c.chapter_id IN ({','.join(map(str, ids_)) or 'NULL'}))"
        if name == "tag":
            pattern = self.param(_glob_like(value))
            return (
                "(EXISTS (SELECT 1 FROM json_each(c.tags) t "
                f"WHERE t.value LIKE {pattern} ESCAPE '\\'))"
            )
        if name == "type":
            return f"(c.kind = {self.param(value)})"
        if value == "learn":
            return f"({learning_sql(self.learning)} AND {_STUDIABLE})"
        return _STATE_SQL[value]  # "is": checked by the parser

    def text(self, value: str) -> str:
        from labdeck.textfmt import CJK_RE

        if CJK_RE.search(value):  # simplified and traditional match each other
            test = f"GLOB {self.param(_cjk_glob(value))}"
        else:
            test = f"LIKE {self.param(_like(value))} ESCAPE '\\'"
        # coalesce: never NULL, so "-word" keeps the cards without notes
        parts = [f"coalesce({col_}, '') {test}" for col_ in _TEXT_COLUMNS]
        parts.append(f"EXISTS (SELECT 1 FROM json_each(c.key_points) k WHERE k.value {test})")
        return "(" + " OR ".join(parts) + ")"


@lru_cache(maxsize=1)
def _converters() -> tuple[Any, ...]:
    import opencc

    return tuple(opencc.OpenCC(name).convert for name in ("t2s", "s2t", "s2tw", "s2hk"))


def _cjk_glob(value: str) -> str:
    """A GLOB pattern for ``value`` anywhere, each Chinese character matching its simplified
    and traditional forms (``[发發]``) and each ASCII letter either case: plain C matching in
    SQLite, no per-row conversion."""
    from labdeck.textfmt import CJK_RE

    t2s, *to_traditional = _converters()
    out = ["*"]
    for ch in value:
        if CJK_RE.match(ch):
            simple = t2s(ch)
            forms = dict.fromkeys([ch, simple, *(f(ch) for f in to_traditional)])
            forms.update(dict.fromkeys(f(simple) for f in to_traditional))
            chars = [f for f in forms if len(f) == 1]
            out.append(ch if len(chars) == 1 else "[" + "".join(chars) + "]")
        elif ch.isascii() and ch.isalpha():
            out.append(f"[{ch.lower()}{ch.upper()}]")
        elif ch in "*?[":
            out.append(f"[{ch}]")
        else:
            out.append(ch)
    out.append("*")
    return "".join(out)


def _json_list(value: Any) -> list[str]:
    import json

    if value is None:
        return []
    data = json.loads(value) if isinstance(value, str | bytes) else value
    return [str(v) for v in data]


def _compiled(
    conn: Any, node: Any, today: date, learning: Collection[int] = ()
) -> tuple[str, dict[str, Any]]:
    compiler = _Compiler(conn, today, learning)
    return compiler.where(node), compiler.params


def browse_page(
    store: Store,
    node: Any,
    today: date,
    *,
    sort: str = "",
    descending: bool = False,
    limit: int = BROWSE_LIMIT,
    total: int | None = None,
    learning: Collection[int] = (),
) -> BrowsePage:
    """The live cards ``node`` (a ``browse_query`` tree) matches, in ``sort`` order, at most
    ``limit`` of them, with how many match and how many live cards there are (``total``, when
    the caller knows it). SQL does the matching, counting and sorting: only the page's rows
    (their prompts cut to 400 characters) reach Python."""
    if sort not in SORTS:
        raise ValueError(f"unknown sort column {sort!r}")
    direction = " DESC" if descending else ""
    learn = f"WHEN {learning_sql(learning)} THEN 1.5 " if learning else ""
    order = ", ".join(f"{term}{direction}" for term in SORTS[sort]).replace("{learn}", learn)
    if sort:
        order += ", " + ", ".join(_DEFAULT_ORDER)
    from labdeck.store.browse_query import EVERYTHING

    with store.engine.connect() as conn:
        live = "c.retired = 0"
        if total is None:
            total = int(conn.execute(sql(f"SELECT count(*) FROM card c WHERE {live}")).scalar_one())
        where, params = _compiled(conn, node, today, learning)
        # the page's ids and the number of matches from one scan (a narrow sort), then the
        # page's rows
        counted = "count(*) OVER ()" if node != EVERYTHING else str(total)
        result = conn.execute(
            sql(
                f"SELECT c.id, {counted} {_FROM} WHERE {live} AND {where} ORDER BY {order} LIMIT :n"
            ),
            {**params, "n": int(limit)},
        ).all()
        page_ids = [int(r[0]) for r in result]
        matching = int(result[0][1]) if result else 0
        found: dict[int, BrowseRow] = {}
        for start in range(0, len(page_ids), 500):  # statements of a modest length
            chunk = ",".join(map(str, page_ids[start : start + 500]))
            for r in conn.execute(
                sql(
                    "SELECT c.id, c.key, d.key, ch.code, c.kind, substr(c.prompt, 1, 400), "
                    "o.card_id IS NOT NULL, cs.repetitions, cs.ease, cs.interval, cs.due, "
                    f"cs.lapses, cs.reviews, cs.leech, cs.suspended, cs.buried_until {_FROM} "
                    f"WHERE c.id IN ({chunk})"
                )
            ):
                found[int(r[0])] = _browse_row(r, learning)
        rows = [found[i] for i in page_ids if i in found]
    return BrowsePage(rows, matching, total)


def _browse_row(r: Any, learning: Collection[int] = ()) -> BrowseRow:
    schedule = CardSchedule()
    if r[7] is not None:
        schedule = CardSchedule(
            int(r[7]),
            int(r[8]),
            int(r[9]),
            _day(r[10]),
            int(r[11]),
            int(r[12]),
            bool(r[13]),
            bool(r[14]),
            _day(r[15]),
        )
    card_id = int(r[0])
    return BrowseRow(
        card_id,
        r[1],
        r[2],
        r[3],
        r[4] or "essay",
        r[5] or "",
        bool(r[6]),
        schedule,
        card_id in learning,
    )


def browse_ids(store: Store, node: Any, today: date, learning: Collection[int] = ()) -> list[int]:
    """The ids of every live card ``node`` matches (for "mark all matching")."""
    with store.engine.connect() as conn:
        where, params = _compiled(conn, node, today, learning)
        result = conn.execute(
            sql(f"SELECT c.id {_FROM} WHERE c.retired = 0 AND {where} ORDER BY c.id"), params
        )
        return [int(r[0]) for r in result]

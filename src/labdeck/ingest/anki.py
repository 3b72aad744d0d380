"""Import Anki packages (.apkg, .colpkg) with the official ``anki`` package.

The package is opened by Anki's own importer into a scratch collection in a temporary folder
(the learner's Anki profile is never touched), then read card by card:

* Cloze notes (any note type of Anki's cloze kind) become cloze drill cards, one per card ord:
  key ``anki:<note guid>.c<N>``. Every other note type (Basic, Basic-and-reversed, …) gives
  essay cards from the rendered question/answer: key ``anki:<guid>`` for the first template,
  ``anki:<guid>.<ord+1>`` for the others. Keys come from note GUIDs, so re-import is idempotent.
* Field HTML becomes text; images and sounds stay as ``[image: file]`` / ``[sound: file]``.
* The top-level deck becomes a labdeck deck (key ``anki:<slug>``), its subdecks chapters.
* Review and relearning cards keep their schedule (interval, ease = factor per-mille, lapses,
  reps; due = labdeck's today + the card's days from Anki's today); learning cards are due today;
  the revlog becomes review-log rows (quality from the button, see ``labdeck.ankilib``).
"""

from __future__ import annotations

import re
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from labdeck import clock
from labdeck.ankilib import (
    CARD_LEARN,
    CARD_NEW,
    QUEUE_SUSPENDED,
    REVLOG_LEARN,
    REVLOG_REVIEW,
    load_anki,
    quality_for_button,
)
from labdeck.drills import cloze as cz
from labdeck.ingest.common import ImportError_, one_line, slug
from labdeck.ingest.external import (
    ExternalCard,
    ExternalDeck,
    ExternalReview,
    ExternalSchedule,
    SchedPoint,
)
from labdeck.ingest.htmltext import html_to_text

SUFFIXES = (".apkg", ".colpkg")
MODEL_CLOZE = 1
_PLAY = re.compile(r"\[anki:play:([qa]):(\d+)\]")
_ANSWER_RULE = re.compile(r"<hr[^>]*id=['\"]?answer['\"]?[^>]*>", re.I)


def is_anki_package(path: Path) -> bool:
    return path.suffix.lower() in SUFFIXES


def parse_anki_package(path: Path, rollover_hour: int = 4) -> list[ExternalDeck]:
    """Every top-level deck of the package that holds cards, fully parsed (nothing written)."""
    if not path.is_file():
        raise ImportError_(path, None, "no such file" if not path.exists() else "not a file")
    collection = load_anki()
    from anki.errors import AnkiException

    with tempfile.TemporaryDirectory(prefix="labdeck-anki-") as tmp:
        try:
            col = _open(collection, path, Path(tmp))
        except AnkiException as exc:
            raise ImportError_(path, None, f"not a readable Anki package: {exc}") from None
        try:
            return _read(col, path, rollover_hour)
        finally:
            col.close()


def _open(collection: Any, path: Path, tmp: Path) -> Any:
    col_path = str(tmp / "collection.anki2")
    if path.suffix.lower() == ".colpkg":
        from anki._backend import RustBackend

        backend = RustBackend()
        backend.import_collection_package(
            col_path=col_path,
            backup_path=str(path.resolve()),
            media_folder=str(tmp / "media"),
            media_db=str(tmp / "media.db"),
        )
        return collection.Collection(col_path, backend=backend)
    col = collection.Collection(col_path)
    try:
        col.import_anki_package(
            collection.ImportAnkiPackageRequest(
                package_path=str(path.resolve()),
                options=collection.ImportAnkiPackageOptions(
                    merge_notetypes=True, with_scheduling=True, with_deck_configs=False
                ),
            )
        )
    except BaseException:
        col.close()
        raise
    return col


def _read(col: Any, path: Path, rollover_hour: int) -> list[ExternalDeck]:
    today = clock.study_day(clock.now(), rollover_hour)
    anki_today = col.sched.today
    decks: dict[str, ExternalDeck] = {}
    rows = col.db.all("select id, nid, did, ord from cards order by did, nid, ord")
    names = {d.id: d.name for d in col.decks.all_names_and_ids()}
    for line, (cid, _nid, did, _ord) in enumerate(rows, start=1):
        card = col.get_card(cid)
        note = card.note()
        top, _, sub = names.get(did, "Default").partition("::")
        deck = decks.get(top)
        if deck is None:
            deck = decks[top] = ExternalDeck(
                key=f"anki:{slug(top)}", name=one_line(top) or "Anki", source="anki", path=path
            )
        ext = _card(card, note, sub.replace("::", " / "))
        if isinstance(ext, str):
            deck.warnings.append(
                f"{one_line(str(path))}: note {note.guid} card {card.ord + 1}: {ext}"
            )
            continue
        ext.line = line
        ext.history = _history(col, cid, rollover_hour)
        ext.schedule = _schedule(card, note, ext.history, today, anki_today)
        deck.cards.append(ext)
    return [d for d in decks.values() if d.cards]


def _card(card: Any, note: Any, chapter: str) -> ExternalCard | str:
    """The labdeck card for one Anki card, or why it was left out."""
    notetype = note.note_type()
    tags = [one_line(t) for t in note.tags if t.lower() != "leech"]
    if notetype.get("type") == MODEL_CLOZE:
        if "image-occlusion:" in note.fields[0]:
            return "image occlusion notes are not imported (labdeck shows no images)"
        text = html_to_text(note.fields[0])
        number = card.ord + 1
        found = {d.number: d for d in cz.deletions(text)}
        deletion = found.get(number)
        if deletion is None:
            return f"no deletion c{number} in the text (an empty cloze card)"
        extra = html_to_text(note.fields[1]) if len(note.fields) > 1 else ""
        return ExternalCard(
            key=f"anki:{note.guid}.c{number}",
            chapter=chapter,
            prompt=cz.front(text, number),
            answer=deletion.answers[0] + (f"\n\n{extra}" if extra else ""),
            kind="cloze",
            drill={
                "text": text,
                "number": number,
                "answers": [deletion.answers[0]],
                "hint": deletion.hint,
                "note": note.guid,
            },
            tags=tags,
        )
    output = card.render_output(reload=True)
    question = _plain(output.question_text, output.question_av_tags)
    answer_html = _ANSWER_RULE.split(output.answer_text, maxsplit=1)
    answer = _plain(answer_html[-1], output.answer_av_tags) if len(answer_html) > 1 else ""
    if not answer:
        answer = _plain(output.answer_text, output.answer_av_tags)
    if not question:
        return "the question side is empty"
    suffix = "" if card.ord == 0 else f".{card.ord + 1}"
    return ExternalCard(
        key=f"anki:{note.guid}{suffix}",
        chapter=chapter,
        prompt=question,
        answer=answer or None,
        tags=tags,
    )


def _plain(html: str, av_tags: list[Any]) -> str:
    def play(match: re.Match[str]) -> str:
        index = int(match.group(2))
        tag = av_tags[index] if index < len(av_tags) else None
        name = getattr(tag, "filename", None)
        return f"[sound: {name}]" if name else ""

    return html_to_text(_PLAY.sub(play, html))


def _history(col: Any, cid: int, rollover_hour: int) -> list[ExternalReview]:
    rows = col.db.all(
        "select id, ease, ivl, lastIvl, factor, time, type from revlog where cid = ? order by id",
        cid,
    )
    out: list[ExternalReview] = []
    reps, ease, interval, due, lapses = 0, 2500, 0, None, 0
    for rid, button, ivl, last_ivl, factor, taken, kind in rows:
        quality = quality_for_button(button)
        if quality is None:  # ease 0: a manual reschedule or set-due-date, not an answer
            continue
        moment = datetime.fromtimestamp(rid / 1000, tz=UTC).astimezone()
        day = clock.study_day(moment, rollover_hour)
        prev = SchedPoint(reps, ease, max(last_ivl, 0) if out else 0, due, lapses)
        passed = quality >= 3
        # A failed learn/review answer resets the streak (a lapse when it was a review); a
        # failed relearning step follows a lapse already counted.
        failed = not passed and kind in (REVLOG_LEARN, REVLOG_REVIEW)
        new_lapses = lapses + (1 if failed and kind == REVLOG_REVIEW else 0)
        reps = 0 if failed else reps + (1 if passed else 0)
        ease = factor if factor > 0 else ease
        interval = max(ivl, 0)
        due = day + timedelta(days=interval)
        lapses = new_lapses
        out.append(
            ExternalReview(
                ts=moment,
                quality=quality,
                prev=prev,
                new=SchedPoint(reps, ease, interval, due, lapses),
                duration_ms=taken or None,
            )
        )
    return out


def _schedule(
    card: Any, note: Any, history: list[ExternalReview], today: date, anki_today: int
) -> ExternalSchedule | None:
    suspended = card.queue == QUEUE_SUSPENDED
    leech = any(t.lower() == "leech" for t in note.tags)
    last = history[-1].ts if history else None
    if card.type == CARD_NEW:
        if not suspended:
            return None
        return ExternalSchedule(0, 2500, 0, None, 0, 0, suspended=True, leech=leech)
    if card.type == CARD_LEARN:
        due, interval, reps = today, 0, 0
    else:  # review or relearning: due is a day number
        due = today + timedelta(days=card.due - anki_today) if card.type == 2 else today
        interval = max(card.ivl, 1)
        reps = history[-1].new.repetitions if history else max(1, card.reps - card.lapses)
    return ExternalSchedule(
        repetitions=reps,
        ease=card.factor or 2500,
        interval=interval,
        due=due,
        lapses=card.lapses,
        reviews=card.reps,
        suspended=suspended,
        leech=leech,
        last_review=last,
    )

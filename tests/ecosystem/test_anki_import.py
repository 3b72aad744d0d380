"""`labdeck import FILE.apkg|.colpkg`: a package built with Anki's own package (Basic with HTML
and an image, Basic-and-reversed, Cloze, an empty cloze card; one card reviewed through Anki's scheduler) comes in as
a labdeck deck with its schedule and history; re-importing changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from labdeck import clock
from labdeck.cli import main
from labdeck.srs.scheduler import Scheduler
from labdeck.store import open_store
from labdeck.store.models import Card, CardState, Chapter, Deck, ReviewLog

collection = pytest.importorskip("anki.collection")

NOW = "2026-03-10T10:00:00+00:00"


@pytest.fixture
def package(tmp_path: Path) -> dict:
    """A real Anki collection exported as .apkg and .colpkg; returns what the test checks."""
    folder = tmp_path / "anki-src"
    folder.mkdir()
    col = collection.Collection(str(folder / "collection.anki2"))
    try:
        verbs = col.decks.id("Spanish::Verbs")
        basic = col.new_note(col.models.by_name("Basic"))
        basic["Front"] = '<b>comer</b><br>(verb) &amp; <img src="eat.png">'
        basic["Back"] = "<div>to eat</div><div>[sound:comer.mp3]</div>"
        basic.guid = "guid-basic"
        basic.tags = ["verbs", "leech"]
        col.add_note(basic, verbs)
        rev = col.new_note(col.models.by_name("Basic (and reversed card)"))
        rev["Front"], rev["Back"] = "hablar", "to speak"
        rev.guid = "guid-rev"
        col.add_note(rev, col.decks.id("Spanish"))
        cloze = col.new_note(col.models.by_name("Cloze"))
        cloze["Text"] = "{{c1::Madrid}} is the capital of {{c2::Spain::a country}}."
        cloze["Back Extra"] = "Geography"
        cloze.guid = "guid-cloze"
        col.add_note(cloze, col.decks.id("Spanish::Facts"))
        edited = col.new_note(col.models.by_name("Cloze"))
        edited["Text"] = "{{c1::uno}} and {{c2::dos}}"
        edited.guid = "guid-edited"
        col.add_note(edited, col.decks.id("Spanish::Facts"))
        edited["Text"] = "{{c1::uno}} only"  # Anki keeps the c2 card (an "empty card")
        col.update_note(edited)
        assert len(edited.cards()) == 2

        # Review the Basic card with Anki's scheduler: Easy (graduates), a manual "due
        # today" (a revlog row that is no answer), Again (a lapse), Good (relearned).
        card = basic.cards()[0]
        col.decks.select(verbs)
        for button in (4, None, 1, 3):
            if button is None:
                col.sched.set_due_date([card.id], "0")
                continue
            shown = col.sched.getCard()
            assert shown is not None and shown.id == card.id
            col.sched.answerCard(shown, button)
        card.load()
        revlog = col.db.all(
            "select id, ease, ivl, lastIvl, factor, type from revlog where cid = ? order by id",
            card.id,
        )
        facts = {
            "ivl": card.ivl,
            "factor": card.factor,
            "due_in": card.due - col.sched.today,
            "reps": card.reps,
            "lapses": card.lapses,
            "revlog": revlog,
        }
        apkg, colpkg = tmp_path / "spanish.apkg", tmp_path / "spanish.colpkg"
        col.export_anki_package(
            out_path=str(apkg),
            options=collection.ExportAnkiPackageOptions(
                with_scheduling=True, with_deck_configs=True, with_media=False, legacy=False
            ),
            limit=None,
        )
        col.export_collection_package(str(colpkg), include_media=False, legacy=False)
    finally:
        col.close()
    return {"apkg": apkg, "colpkg": colpkg, **facts}


def _rows(home: Path):  # type: ignore[no-untyped-def]
    store = open_store(home)
    with Session(store.engine) as session:
        decks = session.exec(select(Deck)).all()
        chapters = {c.id: c for c in session.exec(select(Chapter)).all()}
        cards = {c.key: c for c in session.exec(select(Card)).all()}
        states = {s.card_id: s for s in session.exec(select(CardState)).all()}
        logs = session.exec(select(ReviewLog).order_by(ReviewLog.ts)).all()
    return store, decks, chapters, cards, states, logs


def test_apkg_import_cards_schedule_history_and_idempotent(
    package: dict, home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LABDECK_NO_CONTENT", "1")
    monkeypatch.setenv("LABDECK_NOW", NOW)
    today = clock.study_day(datetime.fromisoformat(NOW))
    assert main(["import", str(package["apkg"])]) == 0
    out = capsys.readouterr().out
    assert "6 new" in out
    assert "warning: " in out and "note guid-edited card 2: no deletion c2" in out
    store, decks, chapters, cards, states, logs = _rows(home)
    assert [(d.key, d.name, d.source) for d in decks] == [("anki:spanish", "Spanish", "anki")]
    assert set(cards) == {
        "anki:guid-basic",
        "anki:guid-rev",
        "anki:guid-rev.2",
        "anki:guid-cloze.c1",
        "anki:guid-cloze.c2",
        "anki:guid-edited.c1",
    }
    basic = cards["anki:guid-basic"]
    assert basic.prompt == "comer\n(verb) & [image: eat.png]"
    assert basic.answer == "to eat\n[sound: comer.mp3]"
    assert basic.kind == "essay" and basic.tags == ["verbs"]
    assert chapters[basic.chapter_id].title == "Verbs"
    assert chapters[cards["anki:guid-rev"].chapter_id].title == "Spanish"  # the top deck
    assert (cards["anki:guid-rev"].prompt, cards["anki:guid-rev"].answer) == ("hablar", "to speak")
    assert (cards["anki:guid-rev.2"].prompt, cards["anki:guid-rev.2"].answer) == (
        "to speak",
        "hablar",
    )
    c2 = cards["anki:guid-cloze.c2"]
    assert c2.kind == "cloze" and c2.prompt == "Madrid is the capital of [a country]."
    assert c2.drill["answers"] == ["Spain"] and c2.drill["number"] == 2
    assert c2.drill["hint"] == "a country" and "Geography" in (c2.answer or "")
    assert chapters[c2.chapter_id].title == "Facts"

    state = states[basic.id]
    assert state.interval == package["ivl"] and state.ease == package["factor"]
    assert state.due == today + timedelta(days=package["due_in"])
    assert (state.reviews, state.lapses, state.leech) == (package["reps"], 1, True)
    assert state.repetitions == 1  # relearned once since the lapse
    answers = [r for r in package["revlog"] if r[1] != 0]  # the manual row is no answer
    assert [g.quality for g in logs] == [{1: 1, 2: 3, 3: 4, 4: 5}[r[1]] for r in answers]
    assert [g.ts for g in logs] == [datetime.fromtimestamp(r[0] / 1000, tz=UTC) for r in answers]
    assert [g.new_interval for g in logs] == [max(r[2], 0) for r in answers]
    assert [g.new_ease for g in logs] == [r[4] for r in answers]
    assert [g.new_lapses for g in logs] == [0, 1, 1]
    assert all(g.mode == "review" and g.card_id == basic.id for g in logs)
    for other in ("anki:guid-rev", "anki:guid-cloze.c1"):
        assert states[cards[other].id].due is None  # new in Anki, new here

    # Re-import: nothing new, nothing updated, no duplicate history, same schedule.
    assert main(["import", str(package["apkg"])]) == 0
    assert "0 new, 0 updated, 6 unchanged" in capsys.readouterr().out
    _, _, _, cards2, states2, logs2 = _rows(home)
    assert set(cards2) == set(cards) and len(logs2) == len(logs)
    assert states2[basic.id].model_dump() == state.model_dump()

    # The learner goes on in labdeck; the (now older) Anki file never rolls that back.
    later = logs[-1].ts + timedelta(days=1)
    Scheduler(store, now=lambda: later).answer("anki:guid-basic", 5)
    after = _rows(home)[4][basic.id].model_dump()
    assert main(["import", str(package["apkg"])]) == 0
    assert _rows(home)[4][basic.id].model_dump() == after


def test_colpkg_gives_the_same_cards(
    package: dict, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LABDECK_NO_CONTENT", "1")
    monkeypatch.setenv("LABDECK_NOW", NOW)
    assert main(["import", str(package["colpkg"])]) == 0
    _, _, _, cards, states, logs = _rows(home)
    assert len(cards) == 6 and len(logs) == 3
    assert states[cards["anki:guid-basic"].id].interval == package["ivl"]
    assert main(["import", str(package["apkg"])]) == 0  # same GUIDs: the same cards
    _, _, _, cards2, _, logs2 = _rows(home)
    assert set(cards2) == set(cards) and len(logs2) == 3


def test_broken_package_is_one_line_and_writes_nothing(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LABDECK_NO_CONTENT", "1")
    bad = tmp_path / "broken.apkg"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    assert main(["import", str(bad)]) != 0
    err = capsys.readouterr().err
    assert f"{bad}: not a readable Anki package" in err and err.count("\n") == 1
    assert main(["import", str(tmp_path / "missing.colpkg")]) != 0
    assert "no such file" in capsys.readouterr().err
    assert _rows(home)[1] == []

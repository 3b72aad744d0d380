"""`labdeck export anki`: a real .apkg, re-opened with Anki's own package (imported into a
fresh collection exactly as Anki would), checked note by note, card by card, row by row."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from labdeck import clock
from labdeck.cli import main
from labdeck.srs.scheduler import Scheduler
from labdeck.store.models import Card, CardState, ReviewLog

from .conftest import DAY1, DAY2, DAY3

collection = pytest.importorskip("anki.collection")

# The documented mapping (README, "Anki and CSV"), written out here on purpose.
BUTTON = {0: 1, 1: 1, 2: 1, 3: 2, 4: 3, 5: 4}


def _answer(store, key: str, quality: int, moment) -> None:  # type: ignore[no-untyped-def]
    Scheduler(store, now=lambda: moment).answer(key, quality)


def _open_in_anki(apkg: Path, tmp: Path, *, with_scheduling: bool = True):  # type: ignore[no-untyped-def]
    (tmp / "anki").mkdir()
    col = collection.Collection(str(tmp / "anki" / "collection.anki2"))
    col.import_anki_package(
        collection.ImportAnkiPackageRequest(
            package_path=str(apkg),
            options=collection.ImportAnkiPackageOptions(with_scheduling=with_scheduling),
        )
    )
    return col


def _labdeck(store):  # type: ignore[no-untyped-def]
    with Session(store.engine) as session:
        cards = {c.key: c for c in session.exec(select(Card)).all()}
        states = {s.card_id: s for s in session.exec(select(CardState)).all()}
        logs = session.exec(select(ReviewLog).order_by(ReviewLog.ts)).all()
    return cards, states, logs


def test_export_with_schedule_round_trips_through_anki(
    mini_store, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _answer(mini_store, "mini:m1.1", 4, DAY1)
    _answer(mini_store, "mini:m1.1", 5, DAY2)
    _answer(mini_store, "mini:m1.1.gap.c1", 5, DAY1)
    _answer(mini_store, "mini:m1.1.gap.c1", 1, DAY2)  # a lapse
    _answer(mini_store, "mini:m1.1.gap.c1", 2, DAY2)  # the same-day re-drill
    Scheduler(mini_store, now=lambda: DAY2).suspend("mini:m1.1.axis")
    monkeypatch.setenv("LABDECK_NOW", DAY3.isoformat())
    today = clock.study_day(DAY3)
    out = tmp_path / "out" / "mini.apkg"
    assert main(["export", "anki", str(out), "--deck", "mini", "--with-schedule"]) == 0
    assert out.is_file() and not out.with_name("mini.apkg.part").exists()

    col = _open_in_anki(out, tmp_path)
    try:
        cards, states, logs = _labdeck(mini_store)
        assert col.note_count() == 6  # 3 essays + one cloze note + choice + true/false
        assert col.card_count() == 7  # the cloze note has two cards
        names = {d.name for d in col.decks.all_names_and_ids()}
        assert {"Mini deck", "Mini deck::M1 Attention", "Mini deck::M2 Decoding"} <= names

        by_guid = {col.get_note(nid).guid: col.get_note(nid) for nid in col.find_notes("")}
        assert set(by_guid) == {
            "mini:m1.1",
            "mini:m1.2",
            "mini:m2.1",
            "mini:m1.1.gap",
            "mini:m1.2.concat",
            "mini:m1.1.axis",
        }
        essay = by_guid["mini:m1.1"]
        assert essay.note_type()["name"] == "labdeck Basic"
        assert essay["Front"] == "Why scale the attention scores?"
        assert "Scaling keeps gradients alive." in essay["Key points"]
        assert "variance of q·k" in essay["Notes"]
        assert sorted(essay.tags) == ["attention", "two_words"]
        cloze = by_guid["mini:m1.1.gap"]
        assert cloze.note_type()["name"] == "labdeck Cloze"
        assert "{{c1::√d_k}}" in cloze["Text"] and "{{c2::1::a number}}" in cloze["Text"]
        assert "sqrt(d_k)" in cloze["Back Extra"]
        assert sorted(c.ord for c in cloze.cards()) == [0, 1]
        assert col.decks.name(cloze.cards()[0].did) == "Mini deck::M1 Attention"
        assert col.decks.name(by_guid["mini:m2.1"].cards()[0].did) == "Mini deck::M2 Decoding"
        choice = by_guid["mini:m1.2.concat"]
        assert "B. They are averaged." in choice["Front"]
        assert choice["Back"].startswith("They are concatenated and projected.")
        assert by_guid["mini:m1.1.axis"]["Back"].startswith("False")

        anki_today = col.sched.today
        expected = {
            "mini:m1.1": by_guid["mini:m1.1"].cards()[0],
            "mini:m1.1.gap.c1": next(c for c in cloze.cards() if c.ord == 0),
        }
        for key, anki_card in expected.items():
            state = states[cards[key].id]
            assert (anki_card.type, anki_card.queue) == (2, 2), key
            assert anki_card.ivl == state.interval
            assert anki_card.factor == state.ease
            assert anki_card.due - anki_today == (state.due - today).days
            assert (anki_card.reps, anki_card.lapses) == (state.reviews, state.lapses)
            rows = col.db.all(
                "select ease, ivl, lastIvl, factor, type from revlog where cid = ? order by id",
                anki_card.id,
            )
            mine = [g for g in logs if g.card_id == cards[key].id]
            assert rows == [
                [
                    BUTTON[g.quality],
                    g.new_interval,
                    g.prev_interval,
                    g.new_ease,
                    2 if g.mode == "redrill" else (0 if g.prev_due is None else 1),
                ]
                for g in mine
            ]
        assert states[cards["mini:m1.1.gap.c1"].id].lapses == 1
        c2 = next(c for c in cloze.cards() if c.ord == 1)
        assert (c2.type, c2.queue) == (0, 0)  # never answered: new
        assert by_guid["mini:m1.1.axis"].cards()[0].queue == -1  # suspended
        assert col.db.scalar("select count() from revlog") == len(logs) == 5
    finally:
        col.close()


def test_export_without_schedule_gives_new_cards(
    mini_store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _answer(mini_store, "mini:m1.1", 4, DAY1)
    out = tmp_path / "plain.apkg"
    assert main(["export", "anki", str(out)]) == 0
    col = _open_in_anki(out, tmp_path)
    try:
        assert col.card_count() == 7
        assert col.db.scalar("select count() from cards where type != 0") == 0
        assert col.db.scalar("select count() from revlog") == 0
    finally:
        col.close()


def test_unknown_deck_and_missing_anki_are_one_line_errors(
    mini_store, home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["export", "anki", str(tmp_path / "x.apkg"), "--deck", "nope"]) != 0
    assert "no deck 'nope'" in capsys.readouterr().err
    probe = (
        "import sys; sys.modules['anki'] = None\n"
        "from labdeck.cli import main\n"
        f"sys.exit(main(['export', 'anki', {str(tmp_path / 'y.apkg')!r}]))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode != 0
    assert "pip install 'labdeck[anki]'" in done.stderr and "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1
    assert not (tmp_path / "y.apkg").exists()


def test_revlog_ids_are_unique_for_answers_in_the_same_millisecond(
    mini_store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _answer(mini_store, "mini:m1.2", 1, DAY1)
    _answer(mini_store, "mini:m1.2", 4, DAY1)  # re-drill at the very same moment
    out = tmp_path / "same.apkg"
    monkeypatch.setenv("LABDECK_NOW", (DAY1 + timedelta(hours=1)).isoformat())
    assert main(["export", "anki", str(out), "--with-schedule"]) == 0
    col = _open_in_anki(out, tmp_path)
    try:
        assert col.db.scalar("select count(distinct id) from revlog") == 2
    finally:
        col.close()

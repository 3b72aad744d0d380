"""Drill cards: parsed from [[drills]], one card per cloze deletion, graded exactly."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select
from tests.drills.conftest import CHAPTER, write_deck

from labdeck.config import Settings
from labdeck.drills import cloze
from labdeck.drills.grade import (
    grade_choice,
    grade_cloze,
    grade_truefalse,
    normalise,
    parse_choice,
    parse_truefalse,
)
from labdeck.ingest.common import ImportError_
from labdeck.ingest.deckfile import parse_deck_dir
from labdeck.srs.scheduler import Scheduler
from labdeck.store import Store
from labdeck.store.models import Card, CardState


def state(store: Store, key: str) -> tuple[int, int, int, object]:
    with store.session() as s:
        card = s.exec(select(Card).where(Card.key == key)).one()
        st = s.get(CardState, card.id)
        assert st is not None
        return (st.repetitions, st.ease, st.interval, st.due)


def cards(store: Store) -> dict[str, Card]:
    with store.session() as s:
        return {c.key: c for c in s.exec(select(Card)).all()}


def test_each_cloze_deletion_is_its_own_card(drill_store: Store) -> None:
    by_key = cards(drill_store)
    c1, c2 = by_key["t:a1.1.scale.c1"], by_key["t:a1.1.scale.c2"]
    assert c1.kind == c2.kind == "cloze"
    assert (
        c1.prompt
        == "Scores are divided by [a function of d_k] so that their variance stays near 1."
    )
    assert c2.prompt == "Scores are divided by √d_k so that their variance stays near […]."
    assert c1.drill is not None and c1.drill["answers"] == ["√d_k", "根号 d_k"]
    assert c1.parent_id == by_key["t:a1.1"].id
    assert by_key["t:a1.1"].kind == "essay" and by_key["t:a1.1"].parent_id is None
    assert by_key["t:a1.2.concat"].kind == "choice"
    assert by_key["t:a1.1.axis"].drill == {
        "verdict": False,
        "why": "It is taken over the keys: each query's weights sum to 1.",
    }


def test_drills_follow_their_essay_in_the_new_queue(drill_store: Store) -> None:
    moment = datetime(2026, 3, 2, 10, 0)
    sched = Scheduler(drill_store, Settings(), now=lambda: moment)
    order = [e.key for e in sched.queue()]
    assert order == [
        "t:a1.1",
        "t:a1.1.scale.c1",
        "t:a1.1.scale.c2",
        "t:a1.1.axis",
        "t:a1.2",
        "t:a1.2.concat",
    ]


def test_reimport_keeps_schedule_of_drills(drill_store: Store, home: Path) -> None:
    from labdeck.ingest.load import import_content

    moment = datetime(2026, 3, 2, 10, 0)
    sched = Scheduler(drill_store, Settings(), now=lambda: moment)
    sched.answer("t:a1.1.scale.c1", 5)
    deck = write_deck(home, CHAPTER.replace("stays near", "stays close to"))
    import_content(drill_store, deck.parent, only=deck)
    card = cards(drill_store)["t:a1.1.scale.c1"]
    assert "stays close to" in card.prompt
    assert state(drill_store, "t:a1.1.scale.c1")[0] == 1


def test_a_lapse_of_the_essay_brings_its_drills_back(drill_store: Store) -> None:
    start = datetime(2026, 3, 2, 10, 0)
    moment = [start]
    sched = Scheduler(drill_store, Settings(), now=lambda: moment[0])
    drills = ["t:a1.1.scale.c1", "t:a1.1.scale.c2", "t:a1.1.axis"]

    def on(day: int, keys: list[str], quality: int = 5) -> None:
        moment[0] = start + timedelta(days=day - 1)
        for key in keys:
            sched.answer(key, quality)

    on(1, drills)
    on(2, drills)
    on(3, ["t:a1.1"])
    on(4, ["t:a1.1"])  # graduated: next review on day 10
    on(8, drills)  # the drills' next reviews are weeks away
    on(10, ["t:a1.1"], quality=1)  # a lapse
    before = state(drill_store, "t:a1.1.axis")
    redrills = [e.key for e in sched.queue() if e.kind == "redrill"]
    assert {"t:a1.1.scale.c1", "t:a1.1.scale.c2", "t:a1.1.axis"} <= set(redrills)
    outcome = sched.answer("t:a1.1.axis", 5)
    assert outcome.mode == "redrill"
    assert state(drill_store, "t:a1.1.axis") == before  # the schedule did not move
    assert "t:a1.1.axis" not in [e.key for e in sched.queue() if e.kind == "redrill"]
    # undoing the lapse takes the drills out again (membership comes from the log)
    sched.undo()
    sched.undo()
    assert not [e for e in sched.queue() if e.kind == "redrill" and e.key != "t:a1.1"]


@pytest.mark.parametrize(
    ("typed", "quality"),
    [
        ("√d_k", 5),
        ("sqrt(d_k)", 5),
        ("\\sqrt{d_k}", 5),
        ("$\\sqrt{d_k}$", 5),
        ("根號 d_k", 5),  # traditional → simplified, spacing ignored
        ("sqrt(dk)", 5),  # d_k typed as dk
        ("d_k", 1),
        ("", 0),
    ],
)
def test_cloze_answers_typed_with_typos_spacing_and_variants(typed: str, quality: int) -> None:
    assert grade_cloze(typed, ["√d_k", "根号 d_k"]).quality == quality


def test_a_typo_in_the_letters_is_forgiven_a_missing_symbol_is_not() -> None:
    assert grade_cloze("sofmax", ["softmax"]).quality == 4
    assert grade_cloze("d_k", ["√d_k"]).quality == 1
    assert grade_cloze("beta_t/(1-alphabar_t)", ["beta_t/(1-alpha_bar_t)"]).quality == 5
    assert grade_cloze("2LHdT", ["2LHdTb"]).quality == 4
    assert grade_cloze("3LHdT", ["2LHdT"]).quality == 1


def test_short_answers_must_match_exactly() -> None:
    assert grade_cloze("15", ["1.5"]).quality == 1
    assert grade_cloze("0.1", ["0.1"]).quality == 5
    assert grade_cloze("Attention", ["attention."]).quality == 5
    assert normalise("\\frac{1}{\\sqrt{d_k}}") == normalise("1/√d_k")
    assert normalise("\\sigma_t(\\eta)") == normalise("σ_t(η)")


def test_choice_and_truefalse_are_graded_exactly() -> None:
    options = ["A one", "B two", "C three"]
    assert parse_choice("a c", options) == ["A one", "C three"]
    assert grade_choice(["A one", "C three"], ["A one", "C three"]).quality == 5
    assert grade_choice(["A one"], ["A one", "C three"]).quality == 1
    assert grade_choice([], ["A one"]).quality == 0
    assert parse_truefalse("对") is True and parse_truefalse("錯") is False
    assert parse_truefalse("maybe") is None
    assert grade_truefalse(False, False).quality == 5
    assert grade_truefalse(True, False).quality == 1
    assert grade_truefalse(None, False).quality == 0


@pytest.mark.parametrize(
    ("reply", "said"),
    [
        ("yes", True), ("True.", True), ("  T ", True), ("right", True), ("正確", True),
        ("False, it is the other way round", False), ("对。因为温度越高越平", True),
        ("wrong", False), ("不是", False), ("假", False), ("NO", False),
        ("no idea", None), ("I think true", None), ("maybe", None),
    ],
)  # fmt: skip
def test_truefalse_reads_the_common_spellings(reply: str, said: bool | None) -> None:
    assert parse_truefalse(reply) is said


@pytest.mark.parametrize(
    ("reply", "chosen"),
    [
        ("a c", "ac"), ("AC", "ac"), ("a,c", "ac"), ("(B)", "b"), ("b)", "b"), ("选B", "b"),
        ("a and c", "ac"), ("B. softmax", "b"), ("Tanh", "c"), ("the second one", ""),
        ("e", ""),
    ],
)  # fmt: skip
def test_choice_reads_letters_and_an_option_typed_out(reply: str, chosen: str) -> None:
    """ "B. softmax" chose a, b, f, m, o, s, t, x: every letter of the reply (with four
    options, a and b); now only a letter standing alone beside words counts."""
    options = ["softmax", "relu", "tanh", "gelu"]
    expected = [opt for i, opt in enumerate(options) if "abcd"[i] in chosen]
    assert parse_choice(reply, options) == expected


@pytest.mark.parametrize(
    ("kind", "drill", "reply", "form"),
    [
        ("truefalse", {"verdict": True}, "no idea", "t or f"),
        ("choice", {"options": ["x1", "y2"], "correct": ["x1"]}, "the second one", "a–b"),
    ],
)
def test_a_reply_in_neither_form_is_wrong_and_says_so(kind, drill, reply, form) -> None:
    """It read "no answer" (a blank, quality 0) though something was typed."""
    from labdeck.drills.present import grade_reply, show

    result = grade_reply(show("k", kind, "Q?", drill, 0), drill, reply)
    assert (result.verdict, result.quality, result.correct) == ("unread", 1, False)
    assert form in result.detail["expected_form"]
    blank = grade_reply(show("k", kind, "Q?", drill, 0), drill, "   ")
    assert blank.verdict == "blank" and blank.quality == 0


def test_cloze_front_and_back() -> None:
    text = "{{c1::Adam}} keeps {{c2::two}} moment estimates; {{c1::Adam}} corrects their bias."
    assert [d.number for d in cloze.deletions(text)] == [1, 2]
    assert cloze.front(text, 1) == "[…] keeps two moment estimates; […] corrects their bias."
    assert cloze.back(text) == "Adam keeps two moment estimates; Adam corrects their bias."


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('parent = "a1.2"', 'parent = "a9.9"'), "is not an essay card"),
        (('type = "choice"', 'type = "essay"'), "drill type 'essay'"),
        (
            ('correct = ["They are concatenated and projected by W_O."]', 'correct = ["Nope"]'),
            "field 'correct'",
        ),
        (("verdict = false", 'verdict = "no"'), "field 'verdict'"),
        (("{{c2::1}}", "{{c1::one}}"), "different answers"),
        (
            ('alternatives = { c1 = ["根号 d_k"] }', 'alternatives = { c3 = ["x"] }'),
            "no such deletion",
        ),
    ],
)
def test_bad_drills_name_file_and_line(home: Path, change: tuple[str, str], message: str) -> None:
    old, new = change
    assert old in CHAPTER
    deck = write_deck(home, CHAPTER.replace(old, new))
    with pytest.raises(ImportError_) as err:
        parse_deck_dir(deck, known_demos=frozenset())
    assert message in str(err.value) and "A01.toml:" in str(err.value)


def test_a_note_check_flags_notes_that_still_say_the_wrong_thing(
    drill_store: Store, home: Path
) -> None:
    from labdeck.ingest.load import import_content
    from labdeck.store.queries import list_cards

    deck = write_deck(home)
    (deck / "note_checks.toml").write_text(
        '[[checks]]\ncard = "a1.1"\npattern = "除以\\\\s*d_k"\n'
        'says = "The note divides by d_k."\ncorrection = "Scores are divided by √d_k."\n',
        encoding="utf-8",
    )
    import_content(drill_store, deck.parent, only=deck)
    with drill_store.session() as s:
        card = s.exec(select(Card).where(Card.key == "t:a1.1")).one()
        card.notes = "分數除以 d_k 以免 softmax 飽和"  # traditional script, folded before matching
        s.add(card)
    info = next(c for c in list_cards(drill_store) if c.key == "t:a1.1")
    assert info.note_flag == "The note divides by d_k. Scores are divided by √d_k."
    assert info.to_dict()["note_flag"] == info.note_flag
    with drill_store.session() as s:
        card = s.exec(select(Card).where(Card.key == "t:a1.1")).one()
        card.notes = "分数除以 √d_k"  # the learner fixed the note
        s.add(card)
    info = next(c for c in list_cards(drill_store) if c.key == "t:a1.1")
    assert info.note_flag is None


def test_a_note_check_for_an_unknown_card_is_an_error(home: Path) -> None:
    deck = write_deck(home)
    (deck / "note_checks.toml").write_text(
        '[[checks]]\ncard = "zz.9"\nsays = "x"\ncorrection = "y"\n', encoding="utf-8"
    )
    with pytest.raises(ImportError_) as err:
        parse_deck_dir(deck, known_demos=frozenset())
    assert "note_checks.toml:1" in str(err.value) and "unknown card" in str(err.value)


def test_latex_commands_are_matched_whole() -> None:
    assert normalise("K^\\top") == normalise("K^T") == normalise("Kᵀ")
    assert normalise("a \\to b") == normalise("a -> b")


def test_browse_detail_shows_a_drills_type_parent_options_and_why(drill_store: Store) -> None:
    from datetime import date

    from labdeck.config import Settings
    from labdeck.srs.scheduler import Scheduler
    from labdeck.store.browse_query import EVERYTHING
    from labdeck.tui.screens.browse import CardDetail, Search, detail_markdown, find_rows

    today = date(2026, 3, 2)
    rows = {r.key: r for r in find_rows(drill_store, Search(EVERYTHING), today).rows}
    sched = Scheduler(drill_store, Settings())

    def detail(key: str) -> str:
        return detail_markdown(CardDetail(rows[key], sched.card(rows[key].id), []), today)

    text = detail("t:a1.2.concat")
    assert "**Type** multiple choice · drills `t:a1.2`" in text
    assert "- ✓ They are concatenated and projected by W_O." in text
    assert "- · They are averaged." in text
    assert "*Why:* MultiHead = Concat(head_1..head_h) W_O." in text
    assert "**Type**" not in detail("t:a1.1")


def test_a_choice_answer_names_the_letters_as_shown() -> None:
    """The answer read "Answer: C three" with no letter, though the options were lettered in
    a shuffled order: the learner had to find which letter that was."""
    from labdeck.drills.present import LETTERS, grade_reply, show

    drill = {"options": ["A one", "B two", "C three", "D four"], "correct": ["C three", "A one"]}
    for showing_no in range(4):
        showing = show("k", "choice", "Q?", drill, showing_no)
        letters = {opt: LETTERS[i] for i, opt in enumerate(showing.options)}
        wrong = next(letters[o] for o in showing.options if o not in drill["correct"])
        result = grade_reply(showing, drill, wrong)
        in_order = sorted(drill["correct"], key=showing.options.index)
        assert result.expected == "; ".join(f"{letters[o]}) {o}" for o in in_order)
        assert result.verdict == "wrong"
        right = " ".join(letters[o] for o in drill["correct"])
        assert grade_reply(showing, drill, right).expected == result.expected


def test_a_greek_letter_or_sum_typed_as_its_name_is_the_same_answer() -> None:
    """A formula shown as "∑_i α_t,i h_i" and typed with the names spelled out was only
    "right (typo)", or wrong (QA)."""
    from labdeck.drills.grade import grade_cloze

    answers = [r"$\sum_i \alpha_{t,i} h_i$"]
    for typed in ("sum_i α_t,i h_i", "sum_i alpha_{t,i} h_i", "∑_i α_t,i h_i", "Σ_i alpha_t,i h_i"):
        assert grade_cloze(typed, answers).verdict == "exact", typed
    assert normalise("pipeline") == "pipeline" and normalise("beta1") == normalise("β1")
    assert normalise("alpha_bar") == normalise("alphabar")  # the letters stay letters

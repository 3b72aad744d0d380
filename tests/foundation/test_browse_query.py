"""Browse's Anki-style search (issue 15.10): the parser (pure), and the SQL it becomes, run on
a real SQLite store — fields, negation, phrases, ``or``, Chinese in either script, states,
sorting by every column."""

from __future__ import annotations

import json
import sqlite3
from datetime import date
from pathlib import Path

import pytest

from labdeck.config import Settings
from labdeck.ingest.load import detect_and_parse, import_document
from labdeck.srs.scheduler import Scheduler
from labdeck.store import open_store
from labdeck.store.browse_query import (
    EVERYTHING,
    All,
    Any_,
    Field,
    Not,
    QueryError,
    Text,
    both,
    parse,
)
from labdeck.store.queries import SORTS, browse_ids, browse_page

TODAY = date(2026, 3, 2)

ALPHA = """---
title: Alpha Exam
---

# A1 Attention

## Scaled dot-product attention

Softmax of query-key scores weights the values.

## 注意力機制

注意力機制根據查詢和鍵的相似度加權。

# A2 Decoding

## Beam search

Keep the k best partial sequences.
"""
BETA = """---
title: Beta
---

# B3 Diffusion

## Denoising

A 100% noisy_image is denoised step by step.

## Multi head attention

Several attention heads in parallel.
"""


@pytest.fixture
def store(home: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("LABDECK_NO_CONTENT", "1")
    s = open_store(home)
    for name, text in (("alpha.md", ALPHA), ("beta.md", BETA)):
        path = home / name
        path.write_text(text, encoding="utf-8")
        import_document(s, detect_and_parse(path))
    with sqlite3.connect(s.path) as conn:
        conn.execute("UPDATE deck SET aliases = ? WHERE key = 'beta'", (json.dumps(["NLP-B"]),))
        conn.execute(
            "UPDATE card SET tags = ? WHERE key LIKE 'alpha-exam:A1:%'",
            (json.dumps(["attention", "transformer"]),),
        )
        conn.execute("UPDATE card SET kind = 'cloze' WHERE key = 'alpha-exam:A2:beam-search'")
    yield s
    s.close()


def keys(store, query: str, **kw) -> list[str]:
    return [r.key.split(":", 1)[1] for r in browse_page(store, parse(query), TODAY, **kw).rows]


# ---------------------------------------------------------------- parser (pure)


def test_parser_reads_anki_syntax() -> None:
    assert parse("") == EVERYTHING == parse("   ")
    assert parse("deck:exam-b tag:attention is:due") == All(
        (Field("deck", "exam-b"), Field("tag", "attention"), Field("is", "due"))
    )
    assert parse('-is:suspended "multi head" or type:tf') == Any_(
        (All((Not(Field("is", "suspended")), Text("multi head"))), Field("type", "truefalse"))
    )
    assert parse('deck:"Exam B"') == Field("deck", "Exam B")
    assert parse('"deck:x"') == Text("deck:x")  # a quoted term is text
    assert parse("-(a OR b) c") == All((Not(Any_((Text("a"), Text("b")))), Text("c")))
    assert parse("IS:Due") == Field("is", "due") and parse("12:30") == Text("12:30")
    assert both(EVERYTHING, Text("a")) == Text("a")


def test_a_hyphen_inside_a_word_is_part_of_the_term() -> None:
    """Only a '-' that starts a term negates (issue 15: ``FILE-UPDATE-1``)."""
    assert parse("FILE-UPDATE-1") == Text("FILE-UPDATE-1")
    assert parse("-FILE-UPDATE-1") == Not(Text("FILE-UPDATE-1"))
    assert parse("B3-2 -is:new") == All((Text("B3-2"), Not(Field("is", "new"))))
    assert parse("x-y or -w") == Any_((Text("x-y"), Not(Text("w"))))


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("foo:bar", "unknown search field 'foo:'"),
        ("is:nope", "unknown state 'is:nope'"),
        ("type:essayy", "unknown card type 'type:essayy'"),
        ("deck:", "'deck:' needs a value"),
        ("a or", "'or' needs a search term on both sides"),
        ("or a", "'or' needs a search term on both sides"),
        ("(a", "a parenthesis is not closed"),
        ("a)", "a ')' has no matching '('"),
        ("()", "empty parentheses"),
        ('"abc', "a quote is not closed"),
        ("- a", "'-' must come right before"),
    ],
)
def test_a_bad_query_is_one_clear_line(query: str, message: str) -> None:
    with pytest.raises(QueryError) as caught:
        parse(query)
    assert str(caught.value).startswith(message) and "\n" not in str(caught.value)


# ---------------------------------------------------------------- SQL on a real store


def test_fields_negation_phrases_and_or(store) -> None:
    everything = keys(store, "")
    assert len(everything) == 5
    assert keys(store, "deck:alpha-exam") == keys(store, 'deck:"Alpha Exam"') == everything[:3]
    assert keys(store, "deck:nlp-b") == keys(store, "deck:be*") == everything[3:]
    assert keys(store, "deck:nothing") == []
    assert keys(store, "chapter:a2") == ["A2:beam-search"]
    assert keys(store, "chapter:A*") == everything[:3]
    assert keys(store, "tag:attention") == everything[:2]
    assert keys(store, "tag:atten*") == everything[:2] and keys(store, "tag:atten") == []
    assert keys(store, "type:cloze") == ["A2:beam-search"]
    assert keys(store, "-type:cloze -deck:beta") == everything[:2]
    # bare-term headings get the chapter's context: "A1 Attention › 注意力機制" matches too
    assert keys(store, "attention") == [*everything[:2], "B3:multi-head-attention"]
    assert keys(store, '"attention heads"') == ["B3:multi-head-attention"]
    assert keys(store, "attention heads") == ["B3:multi-head-attention"]
    assert keys(store, "beam or denoised") == ["A2:beam-search", "B3:denoising"]
    assert keys(store, "(beam or denoised) deck:beta") == ["B3:denoising"]
    assert keys(store, "100%") == keys(store, "noisy_image") == ["B3:denoising"]
    assert keys(store, "100x") == [] and keys(store, "noisyximage") == []  # % and _ literal


def test_chinese_matches_in_either_script(store) -> None:
    wanted = [k for k in keys(store, "") if k.startswith("A1:") and "scaled" not in k]
    assert len(wanted) == 1
    assert keys(store, "注意力機制") == wanted  # as stored (traditional)
    assert keys(store, "注意力机制") == wanted  # simplified finds it
    assert keys(store, "相似度加權") == keys(store, "相似度加权") == wanted
    assert keys(store, "-注意力机制 deck:alpha*") == [
        k for k in keys(store, "deck:alpha*") if k not in wanted
    ]


def test_states_and_sorting(store) -> None:
    sched = Scheduler(
        store, Settings(new_per_day=10), now=lambda: __import__("datetime").datetime(2026, 3, 2, 10)
    )
    ids = {r.key.split(":", 1)[1]: r.id for r in browse_page(store, parse(""), TODAY).rows}
    sched.answer(ids["A2:beam-search"], 5)  # due tomorrow: review, not due
    sched.answer(ids["B3:denoising"], 1)
    sched.suspend(ids["B3:multi-head-attention"])
    sched.edit(ids["A1:scaled-dot-product-attention"], "Edited", "E", [])
    with sqlite3.connect(store.path) as conn:  # a review due today, and a leech
        conn.execute(
            "UPDATE card_state SET due = '2026-03-02' WHERE card_id = ?", (ids["B3:denoising"],)
        )
        conn.execute("UPDATE card_state SET leech = 1 WHERE card_id = ?", (ids["A2:beam-search"],))
    assert keys(store, "is:due") == ["B3:denoising"]
    assert keys(store, "is:suspended") == ["B3:multi-head-attention"]
    assert keys(store, "is:leech") == ["A2:beam-search"]
    assert keys(store, "is:edited") == ["A1:scaled-dot-product-attention"]
    assert len(keys(store, "is:new")) == 2 and keys(store, "is:buried") == []
    sched.bury(ids["B3:denoising"])
    assert keys(store, "is:buried") == ["B3:denoising"] and keys(store, "is:due") == []
    sched.bury(ids["A1:注意力機制"])  # a new card buried (as with its sibling): shown buried
    rows = {r.key.split(":", 1)[1]: r for r in browse_page(store, parse(""), TODAY).rows}
    assert rows["A1:注意力機制"].schedule.state(TODAY) == "buried"
    assert keys(store, "is:buried", sort="state") == ["A1:注意力機制", "B3:denoising"]
    by_state = keys(store, "", sort="state", descending=True)  # suspended, leech, buried…, new
    assert set(by_state[2:4]) == {"A1:注意力機制", "B3:denoising"}, by_state
    sched.unbury(ids["A1:注意力機制"])
    assert keys(store, "edited") == ["A1:scaled-dot-product-attention"]  # the edited text
    for column in SORTS:
        up, down = keys(store, "", sort=column), keys(store, "", sort=column, descending=True)
        assert sorted(up) == sorted(down) == sorted(ids)
    # prompts carry their chapter ("A2 Decoding › Beam search"); the edited one is "Edited"
    by_prompt = ["A1:注意力機制", "A2:beam-search", "B3:denoising"]
    assert keys(store, "", sort="prompt")[:3] == by_prompt  # A1 … < A2 … < B3 Diffusion › D…
    assert keys(store, "", sort="prompt")[-1] == "A1:scaled-dot-product-attention"  # Edited
    assert keys(store, "", sort="prompt", descending=True)[-3:] == by_prompt[::-1]
    assert keys(store, "", sort="due")[:2] == ["B3:denoising", "A2:beam-search"]
    assert keys(store, "", sort="state")[-1] == "B3:multi-head-attention"  # suspended last
    page = browse_page(store, parse("deck:alpha*"), TODAY, limit=2)
    assert (len(page.rows), page.matching, page.total) == (2, 3, 5)
    assert browse_ids(store, parse("deck:alpha*"), TODAY) == sorted(
        ids[k] for k in ids if k[0] == "A"
    )


def test_is_learn_finds_todays_re_drills_as_home_counts_them(store) -> None:
    """QA: after three answers below 4, Home read "learn 3" and no query found those cards
    (``is:due`` gave 0, ``is:learn`` was unknown); their state column said "review"."""
    from labdeck.srs.queue import redrill_ids
    from labdeck.tui.screens.browse import learning_today

    sched = Scheduler(
        store, Settings(new_per_day=10), now=lambda: __import__("datetime").datetime(2026, 3, 2, 10)
    )
    ids = {r.key.split(":", 1)[1]: r.id for r in browse_page(store, parse(""), TODAY).rows}
    sched.answer(ids["B3:denoising"], 2)  # a re-drill today
    sched.answer(ids["A2:beam-search"], 1)
    sched.answer(ids["A1:注意力機制"], 5)  # passed: not a re-drill
    learning = learning_today(store, TODAY)
    with store.engine.connect() as conn:
        assert learning == redrill_ids(conn, TODAY)
    assert learning == {ids["B3:denoising"], ids["A2:beam-search"]}
    assert sched.overview()[0].learning == 2  # Home's "learn" count
    assert keys(store, "is:learn", learning=learning) == ["A2:beam-search", "B3:denoising"]
    assert keys(store, "-is:learn", learning=learning) == [
        k for k in keys(store, "") if k not in ("A2:beam-search", "B3:denoising")
    ]
    rows = {
        r.key.split(":", 1)[1]: r
        for r in browse_page(store, parse(""), TODAY, learning=learning).rows
    }
    assert rows["B3:denoising"].state(TODAY) == "learn"
    assert rows["A1:注意力機制"].state(TODAY) == "review"
    by_state = keys(store, "", sort="state", learning=learning)  # new, learn, review
    assert by_state.index("B3:denoising") < by_state.index("A1:注意力機制")
    assert set(browse_ids(store, parse("is:learn"), TODAY, learning)) == set(learning)
    sched.suspend(ids["B3:denoising"])  # suspended: not studied today, not "learn"
    assert keys(store, "is:learn", learning=learning) == ["A2:beam-search"]

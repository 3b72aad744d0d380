"""`labdeck import FILE.csv|.tsv` (Anki's text-import conventions) and `labdeck export csv`."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session, select

from labdeck.cli import main
from labdeck.ingest.common import ImportError_
from labdeck.ingest.csvfile import parse_csv
from labdeck.store import open_store
from labdeck.store.models import Card, Chapter, Deck


@pytest.fixture(autouse=True)
def _no_shipped_deck(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LABDECK_NO_CONTENT", "1")
    monkeypatch.setenv("LABDECK_NOW", "2026-03-10T10:00:00+00:00")


def _cards(home: Path) -> tuple[list[Deck], dict[int, Chapter], dict[str, Card]]:
    store = open_store(home)
    with Session(store.engine) as session:
        decks = session.exec(select(Deck)).all()
        chapters = {c.id: c for c in session.exec(select(Chapter)).all()}
        cards = {c.key: c for c in session.exec(select(Card)).all()}
    return decks, chapters, cards


TSV = (
    "#separator:tab\n"
    "#html:false\n"
    "#deck:Spanish::Food\n"
    "#tags:imported\n"
    "#columns:Front\tBack\tTags\n"
    "#tags column:3\n"
    "comer\tto eat\tverbs food\n"
    '"la manzana\tel fruto"\t"the apple\n(a fruit)"\tnouns\n'
    "{{c1::pan}} is bread\t\tnouns\n"
)


def test_tsv_with_headers(home: Path, tmp_path: Path) -> None:
    path = tmp_path / "words.tsv"
    path.write_text(TSV, encoding="utf-8")
    assert main(["import", str(path)]) == 0
    decks, chapters, cards = _cards(home)
    assert [(d.key, d.name, d.source) for d in decks] == [("csv:spanish", "Spanish", "csv")]
    by_prompt = {c.prompt: c for c in cards.values()}
    eat = by_prompt["comer"]
    assert eat.answer == "to eat" and eat.tags == ["imported", "verbs", "food"]
    assert chapters[eat.chapter_id].title == "Food"
    apple = by_prompt["la manzana\tel fruto"]  # quoted: the tab and the newline are data
    assert apple.answer == "the apple\n(a fruit)" and apple.source_line == 8
    bread = by_prompt["[…] is bread"]
    assert bread.kind == "cloze" and bread.drill["answers"] == ["pan"]
    assert bread.key.endswith(".c1")
    # Re-import: same keys, nothing new.
    assert main(["import", str(path)]) == 0
    assert set(_cards(home)[2]) == set(cards)


def test_csv_header_row_quotes_and_html(tmp_path: Path) -> None:
    path = tmp_path / "Deck Name.csv"
    path.write_text(
        'Front,Back\n"a, b","say ""hi"""\nq2,<b>bold</b><br>next &amp; <img src="x.png">\n',
        encoding="utf-8",
    )
    (deck,) = parse_csv(path)
    assert deck.name == "Deck Name" and deck.key == "csv:deck-name"
    assert [(c.prompt, c.answer, c.line) for c in deck.cards] == [
        ("a, b", 'say "hi"', 2),
        ("q2", "bold\nnext & [image: x.png]", 3),
    ]


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("#separator:tab\nq1\ta1\nq2\ta2\textra\n", 3, "expected 2 columns, found 3"),
        ("#columns:Front;Back\n#separator:semicolon\nq1;a1\nq2\n", 4, "expected 2 columns"),
        ('#separator:comma\nq1,a1\n"q2,a2\nq3,a3\n', 3, "bad CSV"),
        ("#separator:comma\nq1,a1\n,a2\n", 3, "front"),
        ("#separator:comma\nq1,a1\nq1,other\n", 3, "same note as line 2"),
        ("#separator:nonsense\nq,a\n", 1, "not a separator"),
        ("#notetype:Cloze\n#separator:comma\nno deletions here,x\n", 3, "{{c1::"),
        ("#bogus:1\nq,a\n", 1, "unknown header"),
    ],
)
def test_broken_file_is_file_line_error_and_writes_nothing(
    home: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    text: str,
    line: int,
    message: str,
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ImportError_) as info:
        parse_csv(path)
    assert str(info.value).startswith(f"{path}:{line}: ") and message in str(info.value)
    assert main(["import", str(path)]) == 1
    err = capsys.readouterr().err
    assert f"{path}:{line}: " in err and "Traceback" not in err
    decks, _, cards = _cards(home)
    assert decks == [] and cards == {}


def test_export_csv_round_trip_and_anki_reads_it(mini_store, home: Path, tmp_path: Path) -> None:
    out = tmp_path / "mini.tsv"
    assert main(["export", "csv", str(out), "--deck", "mini"]) == 0
    text = out.read_text(encoding="utf-8")
    assert text.startswith("#separator:tab\n#html:false\n")
    _, _, original = _cards(home)
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    assert main(["--home", str(fresh), "import", str(out)]) == 0
    decks, chapters, cards = _cards(fresh)
    assert [(d.key, d.name) for d in decks] == [("csv:mini-deck", "Mini deck")]
    assert sorted(c.title for c in chapters.values()) == ["M1 Attention", "M2 Decoding"]
    assert len(cards) == len(original)  # 6 notes: the cloze note gives its 2 cards back
    assert cards["csv:mini:m1.1"].prompt == original["mini:m1.1"].prompt
    assert cards["csv:mini:m1.1"].answer == original["mini:m1.1"].answer
    assert cards["csv:mini:m1.1"].tags == ["attention", "two_words"]
    for n in (1, 2):
        back, there = cards[f"csv:mini:m1.1.gap.c{n}"], original[f"mini:m1.1.gap.c{n}"]
        assert (back.kind, back.prompt, back.drill["text"]) == (
            "cloze",
            there.prompt,
            there.drill["text"],
        )

    collection = pytest.importorskip("anki.collection")
    (tmp_path / "anki").mkdir()
    col = collection.Collection(str(tmp_path / "anki" / "collection.anki2"))
    try:
        metadata = col.get_csv_metadata(str(out), None)
        col.import_csv(collection.ImportCsvRequest(path=str(out), metadata=metadata))
        assert col.note_count() == 6
        assert len(col.find_notes('"note:Cloze"')) == 1
        assert len(col.find_cards('"deck:Mini deck::M1 Attention"')) == 6
        assert "two_words" in col.tags.all()
    finally:
        col.close()


def test_import_limits_apply(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "long.csv"
    path.write_text("q1,a1\nq2," + "word " * 5000 + "\n", encoding="utf-8")
    assert main(["import", str(path)]) == 0
    assert (
        f"warning: {path}:2: answer of 24,999 characters cut to 20,000" in capsys.readouterr().out
    )
    answers = sorted(len(c.answer or "") for c in _cards(home)[2].values())
    assert answers[0] == 2 and answers[1] <= 20_000

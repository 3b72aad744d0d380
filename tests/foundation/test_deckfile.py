"""The project's own deck format (content/README.md): parsing, validation, import."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from labdeck.cli import main
from labdeck.ingest.common import ImportError_
from labdeck.ingest.deckfile import parse_deck_dir

DECK = 'key = "mini"\nname = "Mini deck"\nposition = 9\naliases = ["Mini Notes"]\n'
CHAPTER = """[chapter]
code = "M1"
title = "Minimal"

[[cards]]
id = "m1.1"
prompt = "What does $\\\\sqrt{d_k}$ do?"
answer = "It rescales the scores."
key_points = ["Scaling keeps the softmax out of saturation."]
demos = ["attention"]

[[cards]]
id = "m1.2"
prompt = "Second?"
answer = "Yes."
key_points = ["A second point."]
"""


def write(tmp_path: Path, chapter: str = CHAPTER) -> Path:
    deck = tmp_path / "mini"
    deck.mkdir(exist_ok=True)
    (deck / "deck.toml").write_text(DECK, encoding="utf-8")
    (deck / "M01.toml").write_text(chapter, encoding="utf-8")
    return deck


def test_parse_valid_deck(tmp_path: Path) -> None:
    deck = parse_deck_dir(write(tmp_path))
    assert (deck.key, deck.name, deck.aliases) == ("mini", "Mini deck", ["Mini Notes"])
    cards = deck.chapters[0].cards
    assert [c.id for c in cards] == ["m1.1", "m1.2"]
    assert cards[0].demos == ["attention"] and cards[1].demos == []
    assert cards[1].line == 12


@pytest.mark.parametrize(
    ("edit", "line", "message"),
    [
        (lambda t: t.replace('demos = ["attention"]', 'demos = ["rm -rf"]'), 5, "unknown demo id"),
        (lambda t: t.replace('answer = "Yes."\n', ""), 12, "missing field 'answer'"),
        (
            lambda t: t.replace('key_points = ["A second point."]', "key_points = []"),
            12,
            "at least one",
        ),
        (lambda t: t.replace('id = "m1.2"', 'id = "m1.1"'), 12, "already used"),
        (lambda t: t.replace('prompt = "Second?"', "prompt = 3"), 12, "must be a string"),
        (lambda t: t.replace('title = "Minimal"', 'title = "Minimal'), 3, "invalid TOML"),
    ],
)
def test_bad_deck_files_name_file_and_line(tmp_path: Path, edit, line: int, message: str) -> None:
    deck = write(tmp_path, edit(CHAPTER))
    with pytest.raises(ImportError_) as info:
        parse_deck_dir(deck)
    assert info.value.path.endswith("M01.toml")
    assert info.value.line == line, str(info.value)
    assert message in str(info.value)


def test_import_a_deck_folder(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("LABDECK_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("LABDECK_NO_CONTENT", "1")
    deck = write(tmp_path)
    assert main(["import", str(deck)]) == 0
    capsys.readouterr()
    assert main(["cards", "--deck", "mini", "--json"]) == 0
    cards = json.loads(capsys.readouterr().out)
    assert [c["key"] for c in cards] == ["mini:m1.1", "mini:m1.2"]
    # a broken file is refused whole and the database keeps the old text
    (deck / "M01.toml").write_text(CHAPTER.replace('answer = "Yes."\n', ""), encoding="utf-8")
    assert main(["import", str(deck)]) == 1
    assert "M01.toml:12: missing field 'answer'" in capsys.readouterr().err
    main(["cards", "--deck", "mini", "--json"])
    assert json.loads(capsys.readouterr().out)[1]["answer"] == "Yes."

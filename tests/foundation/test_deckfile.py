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


KEY_POINTS_9 = 'key_points = ["Scaling keeps the softmax out of saturation."]'
KEY_POINTS_16 = 'key_points = ["A second point."]'


@pytest.mark.parametrize(
    ("edit", "line", "stopped"),
    [
        # a list left open on line 9: tomllib reads on and stops at line 10, column 1 (QA:
        # `B03.toml:33` for a break on line 32)
        (lambda t: t.replace(KEY_POINTS_9, KEY_POINTS_9[:-1] + ","), 9, "at line 10, column 1"),
        # …past blank lines and a table header
        (lambda t: t.replace('demos = ["attention"]', 'demos = ["attention",'), 10, "line 12"),
        # …or to the end of the file, which gave no line at all
        (lambda t: t.replace(KEY_POINTS_16, KEY_POINTS_16[:-1]), 16, "at the end of the file"),
        (lambda t: t.replace('answer = "Yes."', 'answer = """Yes.'), 15, "the end of the file"),
        # a list over several lines without its "]": the line the statement starts on
        (lambda t: t.replace(KEY_POINTS_9, 'key_points = [\n  "a",\n  "b",'), 9, "line 12"),
        # mistakes tomllib finds on their own line: that line, as before
        (lambda t: t.replace('prompt = "Second?"', "prompt = Second?"), 14, "(column 10)"),
        (lambda t: t.replace('title = "Minimal"', 'title = "Minimal'), 3, "(column 17)"),
        (lambda t: t.replace('answer = "Yes."', 'answer = "Yes."\nanswer = "No."'), 16, "column"),
        (lambda t: t.replace(KEY_POINTS_9, 'key_points = [\n  "a",\n  nope,\n]'), 11, "column 3"),
        (lambda t: t.replace('demos = ["attention"]', "demos = {a = 1,"), 10, "column 16"),
    ],
)
def test_toml_errors_name_the_line_to_fix(tmp_path: Path, edit, line: int, stopped: str) -> None:
    """The line reported is the line an editor shows the mistake on (or the first line of the
    statement left open), and where tomllib stopped is in the message."""
    deck = write(tmp_path, edit(CHAPTER))
    with pytest.raises(ImportError_) as info:
        parse_deck_dir(deck)
    assert info.value.line == line, str(info.value)
    assert str(info.value).startswith(f"{deck / 'M01.toml'}:{line}: invalid TOML: ")
    assert stopped in str(info.value)


def test_reimport_names_the_updated_cards_that_keep_the_learners_edit(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    """QA: a re-import whose upstream text changed a card the learner had edited said only
    `1 updated`; the edit stays in force over the new text, and the summary now says so."""
    from labdeck.config import Settings
    from labdeck.srs.scheduler import Scheduler
    from labdeck.store import open_store

    monkeypatch.setenv("LABDECK_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("LABDECK_NO_CONTENT", "1")
    deck = write(tmp_path)
    assert main(["import", str(deck)]) == 0
    store = open_store(tmp_path / "home")
    assert Scheduler(store, Settings()).edit("mini:m1.2", "Second?", "My answer.", ["Mine."])
    store.close()
    upstream = CHAPTER.replace('"Yes."', '"Yes, upstream."').replace("rescales", "scales")
    (deck / "M01.toml").write_text(upstream, encoding="utf-8")
    capsys.readouterr()
    assert main(["import", str(deck), "--dry-run"]) == 0
    assert "1 updated card would keep your edit (mini:m1.2)" in capsys.readouterr().out
    assert main(["import", str(deck)]) == 0
    out = capsys.readouterr().out
    assert "0 new, 2 updated, 0 unchanged" in out  # m1.1 changed too: not edited, not named
    assert (
        "\n  1 updated card keeps your edit (mini:m1.2): Browse is:edited shows them; e there "
        "reverts to the new text\n"
    ) in out
    assert main(["cards", "--deck", "mini", "--json"]) == 0
    cards = json.loads(capsys.readouterr().out)
    assert [c["answer"] for c in cards] == ["It scales the scores.", "My answer."]
    assert main(["import", str(deck)]) == 0  # nothing changed upstream: nothing to say
    assert "keep" not in capsys.readouterr().out
    # a TOML mistake on re-import writes nothing
    (deck / "M01.toml").write_text(upstream.replace('"Second?"', '["Again?",'), encoding="utf-8")
    assert main(["import", str(deck)]) == 1
    assert "M01.toml:14: invalid TOML" in capsys.readouterr().err
    main(["cards", "--deck", "mini", "--json"])
    assert [c["prompt"] for c in json.loads(capsys.readouterr().out)][1] == "Second?"

"""The drill commands as a script uses them: next shows the options, check grades exactly."""

from __future__ import annotations

import json

import pytest

from labdeck.cli import main
from labdeck.store import Store


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def cli(drill_store: Store, monkeypatch: pytest.MonkeyPatch) -> Store:
    monkeypatch.setenv("LABDECK_NOW", "2026-03-02T10:00")
    return drill_store


def test_cards_by_type_and_counts_per_chapter(cli: Store, capsys) -> None:
    code, out, _ = run(capsys, "cards", "--type", "cloze")
    assert code == 0
    assert [line.split("\t")[0] for line in out.splitlines()] == [
        "t:a1.1.scale.c1",
        "t:a1.1.scale.c2",
    ]
    code, out, _ = run(capsys, "cards", "--type", "tf")  # the word decks and Browse show
    assert code == 0 and len(out.splitlines()) == 1
    assert out == run(capsys, "cards", "--type", "truefalse")[1]
    code, out, _ = run(capsys, "decks", "--json")
    deck = json.loads(out)[0]
    assert deck["by_kind"] == {"essay": 2, "cloze": 2, "choice": 1, "truefalse": 1}
    assert deck["chapters"][0]["by_kind"]["cloze"] == 2
    code, out, _ = run(capsys, "decks", "--chapters")
    assert "(2 essay, 2 cloze, 1 choice, 1 tf)" in out  # Browse's and type:'s words


def test_next_shows_a_choice_card_with_lettered_options(cli: Store, capsys) -> None:
    for key in ["t:a1.1", "t:a1.1.scale.c1", "t:a1.1.scale.c2", "t:a1.1.axis", "t:a1.2"]:
        assert run(capsys, "answer", key, "5")[0] == 0
    code, out, _ = run(capsys, "next", "--json")
    data = json.loads(out)
    assert data["key"] == "t:a1.2.concat" and data["type"] == "choice"
    options = data["options"]
    assert sorted(options) == sorted(
        [
            "They are concatenated and projected by W_O.",
            "They are averaged.",
            "Only the best head is kept.",
        ]
    )
    right = "abc"[options.index("They are concatenated and projected by W_O.")]
    wrong = next(letter for letter in "abc" if letter != right)
    code, out, _ = run(capsys, "check", "t:a1.2.concat", wrong, "--json")
    assert json.loads(out)["quality"] == 1
    code, out, _ = run(capsys, "check", "t:a1.2.concat", right, "--record", "--json")
    data = json.loads(out)
    assert data["quality"] == 5 and data["recorded"]["quality"] == 5
    assert data["why"] == "MultiHead = Concat(head_1..head_h) W_O."


def test_check_grades_cloze_variants_and_refuses_essays(cli: Store, capsys) -> None:
    code, out, _ = run(capsys, "check", "t:a1.1.scale.c1", "根號d_k", "--json")
    assert json.loads(out)["quality"] == 5
    code, out, _ = run(capsys, "check", "t:a1.1.axis", "true")
    assert "wrong; quality 1" in out and "why: It is taken over the keys" in out
    code, out, err = run(capsys, "check", "t:a1.1", "anything")
    assert code != 0 and "essay card" in err and len(err.strip().splitlines()) == 1


def test_option_order_changes_between_showings_not_within() -> None:
    from labdeck.drills.present import option_order

    options = ["a", "b", "c", "d", "e"]
    assert option_order("k", options, 3) == option_order("k", options, 3)
    assert len({tuple(option_order("k", options, n)) for n in range(8)}) > 1

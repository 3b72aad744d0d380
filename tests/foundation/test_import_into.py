"""``labdeck import FILE --into DECK`` and deck aliases: a document attaches to an existing
deck as the learner's notes instead of becoming a duplicate deck (real files, real SQLite)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from labdeck.cli import main
from labdeck.ingest.common import read_document
from labdeck.store import open_store
from labdeck.store.models import Card, Deck

ENGLISH_TITLE = "Common Generative AI Interview Questions"

# Written for this test: the shape of an English interview list (sections, numbered questions,
# answer bullets), not its text.
ENGLISH_LIST = f"""# {ENGLISH_TITLE}

## Generative Models

1. **How do generative and discriminative models differ?**
- Answer:
    - One models the data, the other the boundary.

        ![fig](img/fig_1.png)

---

2. **How do the two networks of a GAN train together?**
- Answer:
    They play a minimax game.

## Large Language Models

1. What is transfer learning?
- Answer: Reusing a pretrained model.
"""


@pytest.fixture
def home(home: Path, synced_db: Path) -> Path:
    """The home with the shipped deck loaded already (these tests are not about loading it:
    a second or more a command saved)."""
    shutil.copy(synced_db, home / "labdeck.db")
    return home


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / "docs" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def state(home: Path) -> tuple[list[str], int, dict[str, str]]:
    """Deck keys, card count, and the notes attached (card key -> notes)."""
    with Session(open_store(home).engine) as session:
        decks = list(session.exec(select(Deck.key).order_by(col(Deck.key))).all())
        cards = session.exec(select(Card)).all()
        notes = {c.key: c.notes for c in cards if c.notes}
    return decks, len(cards), notes


def imported(capsys, *args: str) -> dict:
    code, out, err = run(capsys, "import", "--json", *args)
    assert code == 0, err
    return json.loads(out)[0]


# ---------------------------------------------------------------- the English title


def test_english_titled_interview_list_attaches_to_the_shipped_deck(
    tmp_path: Path, home: Path, capsys
) -> None:
    doc = write(tmp_path, "interview-en.md", ENGLISH_LIST)
    run(capsys, "decks")  # the shipped deck, synced
    decks, count, _ = state(home)
    report = imported(capsys, str(doc))
    assert report["deck"] == "interview"
    assert report["attached"] == ["interview:i1.1", "interview:i1.2", "interview:i2.1"]
    assert not report["created"] and not report["mismatches"]
    after, after_count, notes = state(home)
    assert (after, after_count) == (decks, count)  # no duplicate deck, no new cards
    assert notes["interview:i1.2"] == "They play a minimax game."
    assert "![fig](img/fig_1.png)" not in notes["interview:i1.1"]  # a reference to the file
    assert "img/fig_1.png" in notes["interview:i1.1"]


def test_the_shipped_english_original_attaches_when_present(
    seeds: Path, home: Path, capsys
) -> None:
    originals = [
        p
        for p in sorted(seeds.glob("*.md"))
        if read_document(p).lstrip().startswith(f"# {ENGLISH_TITLE}")
    ]
    if not originals:
        pytest.skip(f"no English original ('# {ENGLISH_TITLE}') in ../shared/seeds")
    run(capsys, "decks")
    decks, count, _ = state(home)
    report = imported(capsys, str(originals[0]))
    assert report["deck"] == "interview"
    assert len(report["attached"]) >= 50
    assert state(home)[:2] == (decks, count + len(report["created"]))
    assert len(state(home)[0]) == len(decks)


def test_a_simplified_copy_of_the_traditional_title_attaches_too(
    tmp_path: Path, home: Path, capsys
) -> None:
    doc = write(tmp_path, "simplified.md", "# 常见生成式 AI 面试问题\n\n## 生成模型\n\n"
                "1. 生成模型和判别模型的区别？\n- 答案: 一个建模数据分布。\n")  # fmt: skip
    report = imported(capsys, str(doc))
    assert (report["deck"], report["attached"]) == ("interview", ["interview:i1.1"])


# ---------------------------------------------------------------- --into


def test_into_attaches_a_document_with_its_own_title_to_a_shipped_deck(
    tmp_path: Path, home: Path, capsys
) -> None:
    doc = write(tmp_path, "prep.md", ENGLISH_LIST.replace(ENGLISH_TITLE, "My prep"))
    without = imported(capsys, "--dry-run", str(doc))
    assert without["deck"] == "my-prep"  # by its title alone it would be a deck of its own
    decks, count, _ = state(home)
    report = imported(capsys, "--into", "Interview · Generative AI", str(doc))  # by name
    assert report["deck"] == "interview" and len(report["attached"]) == 3
    assert state(home)[:2] == (decks, count)


def test_into_a_learners_own_deck_matches_by_question_number(
    tmp_path: Path, home: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LABDECK_NO_CONTENT", "1")
    first = write(
        tmp_path,
        "mine.md",
        "# 我的问题\n\n## 基础\n\n1. 什么是注意力？\n- 答案: 加权求和。\n\n"
        "2. 什么是丢弃法？\n- 答案: 随机丢弃单元。\n",
    )
    assert imported(capsys, str(first))["deck"] == "我的问题"
    notes = write(
        tmp_path,
        "notes.md",
        "# Notes in English\n\n## Basics\n\n1. What is attention?\n- Answer: A weighted sum.\n",
    )
    decks, count, _ = state(home)
    report = imported(capsys, "--into", "我的问题", str(notes))
    assert report["attached"] == ["我的问题:S1:什么是注意力"]
    assert report["labels"]["我的问题:S1:什么是注意力"] == "What is attention? → 什么是注意力？"
    after, after_count, attached = state(home)
    assert (after, after_count) == (decks, count)
    assert attached == {"我的问题:S1:什么是注意力": "A weighted sum."}
    # re-importing is idempotent
    again = imported(capsys, "--into", "我的问题", str(notes))
    assert again["attached_changed"] == 0 and state(home)[:2] == (decks, count)


def test_into_an_unknown_deck_is_one_line_and_writes_nothing(
    tmp_path: Path, home: Path, capsys
) -> None:
    doc = write(tmp_path, "prep.md", ENGLISH_LIST)
    run(capsys, "decks")
    before = state(home)
    code, out, err = run(capsys, "import", "--into", "exam-z", str(doc))
    assert code == 1 and not out
    assert err.strip() == (
        "labdeck: --into 'exam-z': no such deck (decks: exam-b, exam-c, interview)"
    )
    assert "Traceback" not in err
    assert state(home) == before


def test_into_refuses_files_that_bring_their_own_deck(tmp_path: Path, home: Path, capsys) -> None:
    csv = write(tmp_path, "cards.csv", "front,back\nq,a\n")
    code, _, err = run(capsys, "import", "--into", "interview", str(csv))
    assert code == 2 and "--into attaches outline / Q&A documents" in err


# ---------------------------------------------------------------- outlines linked by chapter


OWN_OUTLINE = """# B1 Bad habits of mine

## Sleeping late

Go to bed at ten.
"""

SAME_CHAPTERS = """# B1 Attention mechanism

## 瓶颈问题

The fixed-length vector is a bottleneck.
"""


def test_an_outline_reusing_a_chapter_code_only_is_a_deck_of_its_own(
    tmp_path: Path, home: Path, capsys
) -> None:
    """ "B1" alone is no sign of exam B: the chapter's title must agree too."""
    report = imported(capsys, str(write(tmp_path, "mine.md", OWN_OUTLINE)))
    assert report["deck"] != "exam-b" and report["attached"] == []
    decks, _cards, notes = state(home)
    assert report["deck"] in decks and not any(k.startswith("exam-b:") for k in notes)


def test_an_outline_with_the_exams_chapters_attaches_to_it(
    tmp_path: Path, home: Path, capsys
) -> None:
    report = imported(capsys, str(write(tmp_path, "notes.md", SAME_CHAPTERS)))
    assert report["deck"] == "exam-b" and report["attached"] == ["exam-b:b1.2"]


# ---------------------------------------------------------------- matching by the words too

# Written for this test: an English list in its own order, with a question the deck lacks.
REORDERED = f"""# {ENGLISH_TITLE}

## Generative models

1. **Explain the concept of a Variational Autoencoder (VAE) and its latent variables.**
- Answer: An encoder maps inputs to a distribution over latents; trained on the ELBO.

2. **What is the difference between generative and discriminative models?**
- Answer: One learns p(x) or p(x, y), the other p(y|x).

3. **How do you bake sourdough bread?**
- Answer: Flour, water, salt, a starter and time.
"""


def test_a_reordered_list_attaches_each_note_to_its_own_question(
    tmp_path: Path, home: Path, capsys
) -> None:
    """QA: notes were attached by number alone: the VAE answer landed on "generative vs
    discriminative", and a question the deck does not have took the VAE card."""
    doc = write(tmp_path, "interview-en.md", REORDERED)
    report = imported(capsys, str(doc))
    assert report["deck"] == "interview"
    assert sorted(report["attached"]) == ["interview:i1.1", "interview:i1.3"]
    assert [m.split()[0] for m in report["mismatches"]] == ["S1.3"]  # sourdough: its own card
    notes = state(home)[2]
    assert "ELBO" in notes["interview:i1.3"]  # the VAE card
    assert "p(y|x)" in notes["interview:i1.1"]  # generative vs discriminative
    assert "interview:i1.2" not in notes


def test_an_item_matching_no_card_is_reported_as_a_new_card(tmp_path: Path, home: Path, capsys):
    """QA: "4 items matched no card of the deck" and "? no card in the deck for …" read as a
    failure, while each had become a new card of the deck."""
    doc = write(tmp_path, "interview-en.md", REORDERED)
    assert main(["import", str(doc), "--into", "interview"]) == 0
    out = capsys.readouterr().out
    assert "1 item matched no card of the deck and is a new card of its own" in out
    assert "? no card in the deck for S1.3 How do you bake sourdough bread?: a new card" in out


def test_notes_from_another_document_are_kept_unless_replaced(
    tmp_path: Path, home: Path, capsys
) -> None:
    """QA: importing a second list over the same deck replaced the notes the first one had
    attached, without a word."""
    chinese = write(tmp_path, "mine.md", "# 常見生成式 AI 面試問題\n\n## 生成模型\n\n"
                    "1. 生成模型和判別模型之間的區別是什麼？\n- 答案: 我的筆記。\n")  # fmt: skip
    assert imported(capsys, str(chinese))["attached"] == ["interview:i1.1"]
    english = write(tmp_path, "interview-en.md", REORDERED)
    report = imported(capsys, str(english))
    assert report["notes_kept"] == ["interview:i1.1"]
    assert report["attached"] == ["interview:i1.3"]
    assert state(home)[2]["interview:i1.1"] == "我的筆記。"
    code, out, _ = run(capsys, "import", "--dry-run", str(english))
    assert code == 0 and "kept the notes of another document" in out and "mine.md" in out
    replaced = imported(capsys, "--replace-notes", str(english))
    assert sorted(replaced["attached"]) == ["interview:i1.1", "interview:i1.3"]
    assert "p(y|x)" in state(home)[2]["interview:i1.1"]

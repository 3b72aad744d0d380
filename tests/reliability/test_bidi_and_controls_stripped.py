"""Issue 12 item 2: bidi, zero-width and control characters never reach the deck or a terminal.

Every importer (outline, Q&A, content deck files) and typed text (``labdeck answer --text``,
exam answers) go through ``ingest.common.clean_text``; import errors that quote the document
or its file name are one clean line. Real ``labdeck`` processes on a real SQLite file.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

BIDI = [chr(c) for c in range(0x202A, 0x202F)] + [chr(c) for c in range(0x2066, 0x206A)]
ZERO_WIDTH = [chr(c) for c in range(0x200B, 0x2010)] + ["\ufeff", "\u2060", "\u061c"]
C0 = [chr(c) for c in range(0x01, 0x20) if chr(c) not in "\n\t\r"] + ["\x7f"]
C1 = [chr(c) for c in range(0x80, 0xA0)]
SEQUENCES = ["\x1b[31m", "\x1b]52;c;ZXZpbA==\x07", "\x1b]8;;http://x\x1b\\", "\x9b2J"]
CONTROLS = BIDI + ZERO_WIDTH + C0 + C1
ALLOWED = set("\n\t")


def _bad(text: str) -> list[str]:
    """The forbidden characters in ``text`` (controls, bidi, zero-width, lone surrogates)."""
    out = []
    for ch in text:
        code = ord(ch)
        if ch in ALLOWED:
            continue
        if (
            code < 0x20
            or 0x7F <= code <= 0x9F
            or ch in BIDI
            or ch in ZERO_WIDTH
            or 0xD800 <= code <= 0xDFFF
        ):
            out.append(f"U+{code:04X}")
    return out


def _salted(word: str) -> str:
    """``word`` with every control and escape sequence spliced into it."""
    return word[:2] + "".join(CONTROLS) + "".join(SEQUENCES) + word[2:]


def _env(home: Path) -> dict[str, str]:
    env = dict(os.environ, LABDECK_HOME=str(home), LABDECK_NO_CONTENT="1")
    src = str(Path(__file__).resolve().parents[2] / "src")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH")) if p)
    return env


def _labdeck(home: Path, *args: str | bytes) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "labdeck.cli", *args],
        env=_env(home),
        capture_output=True,
        timeout=120,
    )


def _assert_clean_output(result: subprocess.CompletedProcess[bytes]) -> None:
    for stream in (result.stdout, result.stderr):
        text = stream.decode("utf-8", errors="surrogateescape")
        assert not _bad(text), (_bad(text)[:5], text[:400])
        assert "Traceback" not in text


def _db_texts(home: Path) -> list[str]:
    """Every stored value of the deck, chapter, card and review_log tables, as text."""
    out = []
    with sqlite3.connect(home / "labdeck.db") as conn:
        conn.text_factory = lambda b: b.decode("utf-8", errors="surrogateescape")
        for table in ("deck", "chapter", "card", "review_log"):
            for row in conn.execute(f"SELECT * FROM {table}"):
                out.extend(str(v) for v in row if v is not None)
    return out


def _outline() -> str:
    return (
        f"---\ntitle: My {_salted('Outline')} notes\n---\n\n"
        f"# Q1 {_salted('Attention')} chapter\n\n{_salted('chapter description')}\n\n"
        f"## {_salted('Scaled')} dot-product attention\n\n"
        f"Softmax of {_salted('QK')} over sqrt(d_k).\n- {_salted('bullet')}\n"
    )


def _qa() -> str:
    return (
        f"# {_salted('Interview')} questions\n\n## {_salted('Basics')}\n\n"
        f"{_salted('intro text')}\n\n"
        f"1. **What is {_salted('dropout')}?**\n- Answer: {_salted('Randomly')} zeroing units.\n"
        "\n---\n\n"
        f"2. Why {_salted('layer')} norm?\n- Answer: {_salted('Stable')} training.\n"
    )


def _content_deck(folder: Path) -> Path:
    """A content deck folder whose TOML strings carry the controls as escapes."""
    deck = folder / "evil-deck"
    deck.mkdir()
    esc = "".join(f"\\u{ord(c):04x}" for c in CONTROLS) + "\\u001b[31m"
    (deck / "deck.toml").write_text(
        f'key = "evil"\nname = "Evil{esc} deck"\ndescription = "d{esc}"\n', encoding="utf-8"
    )
    (deck / "c1.toml").write_text(
        "[chapter]\n"
        f'code = "E1"\ntitle = "Chap{esc}ter"\n\n'
        "[[cards]]\n"
        f'id = "e1.1"\nprompt = "Pro{esc}mpt?"\nanswer = "An{esc}swer text."\n'
        f'key_points = ["po{esc}int", "{esc}"]\ntags = ["t{esc}"]\n',
        encoding="utf-8",
    )
    return deck


def test_every_importer_and_typed_text_strip_controls(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    outline, qa = tmp_path / "outline.md", tmp_path / "qa.md"
    outline.write_text(_outline(), encoding="utf-8")
    qa.write_text(_qa(), encoding="utf-8")
    deck = _content_deck(tmp_path)

    result = _labdeck(home, "import", "--standalone", str(outline), str(qa), str(deck))
    assert result.returncode == 0, result.stderr.decode()
    _assert_clean_output(result)

    for args in (("decks", "--chapters"), ("cards", "--limit", "100"), ("cards", "--json")):
        listed = _labdeck(home, *args)
        assert listed.returncode == 0, listed.stderr.decode()
        _assert_clean_output(listed)
    cards = json.loads(_labdeck(home, "cards", "--json").stdout)
    assert len(cards) == 4  # 1 outline item, 2 questions, 1 content card
    texts = _db_texts(home)
    joined = "\n".join(texts)
    assert "Attention chapter" in joined and "What is dropout?" in joined  # words rejoined
    assert "Randomly zeroing units." in joined and "Answer text." in joined

    # typed text: a lone surrogate (undecodable argv byte) and bidi/zero-width in --text
    key = next(c["key"] for c in cards if c["key"].startswith("evil:"))
    typed = b"I typed \xff" + "\u202edecoder\u200b\x1b[2J".encode()
    answered = _labdeck(home, "answer", key, "4", "--text", typed)
    assert answered.returncode == 0, answered.stderr.decode(errors="replace")
    _assert_clean_output(answered)

    bad = [(t[:60], _bad(t)[:3]) for t in _db_texts(home) if _bad(t)]
    assert not bad
    with sqlite3.connect(home / "labdeck.db") as conn:
        (stored,) = conn.execute("SELECT answer FROM review_log").fetchone()
    assert stored == "I typed decoder"


def test_exam_answers_from_a_file_are_cleaned(tmp_path: Path) -> None:
    from labdeck.exam import ExamError
    from labdeck.exam.grade import read_answers_jsonl

    path = tmp_path / "sitting.jsonl"
    salted = json.dumps({"key": "k", "answer": "ab" + "".join(CONTROLS) + "c\u202ed"})
    path.write_text(salted + "\n", encoding="utf-8")
    (answer,) = read_answers_jsonl(path)
    assert answer.answer == "abcd"
    # a lone surrogate is not text at all: one error naming the line (as grade --jsonl does)
    path.write_text(json.dumps({"key": "k", "answer": "a\ud800b"}) + "\n", encoding="utf-8")
    with pytest.raises(ExamError, match=r"sitting\.jsonl:1: .*lone surrogate"):
        read_answers_jsonl(path)


def test_grader_sees_no_controls() -> None:
    from labdeck.grading import language

    assert language.clean("en\u202ecoder\u200d RNN\ufeff") == "encoder RNN"


@pytest.mark.parametrize(
    "document",
    [
        "## \x1b]52;c;ZXZpbA==\x07Stolen clipboard\n\n# B1 Chapter\n\n## Item\n\nbody\n",
        "## \u202eesrever\u202c heading\n\n# B1 Chapter\n\n## Item\n\nbody\n",
    ],
    ids=["osc52", "bidi"],
)
def test_heading_before_any_chapter_is_one_clean_error_line(tmp_path: Path, document: str) -> None:
    home = tmp_path / "home"
    home.mkdir()
    path = tmp_path / "early.md"
    path.write_text(document, encoding="utf-8")
    result = _labdeck(home, "import", str(path))
    assert result.returncode == 1
    assert result.stdout == b""
    _assert_clean_output(result)
    err = result.stderr.decode()
    assert err.count("\n") == 1 and err.startswith(f"labdeck: {path}:1: item '")
    assert "comes before any chapter" in err


def test_file_name_with_escapes_is_cleaned_in_the_error(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    name = os.fsencode(tmp_path) + b"/\x1b]52;c;ZXZpbA==\x07\xe2\x80\xaenope.md"
    result = _labdeck(home, "import", name)
    assert result.returncode == 1
    _assert_clean_output(result)
    assert result.stderr.decode() == f"labdeck: {tmp_path}/nope.md: no such file\n"


def test_exam_answers_file_errors_are_cleaned(tmp_path: Path) -> None:
    from labdeck.exam import ExamError
    from labdeck.exam.grade import read_answers_jsonl

    path = tmp_path / "\x1b]52;c;ZXZpbA==\x07\u202esitting.jsonl"
    with pytest.raises(ExamError) as err:
        read_answers_jsonl(path)
    assert str(err.value) == f"{tmp_path}/sitting.jsonl: no such file"
    path.write_text('{"key": "k\\u001b[2J\\u202e"}\n{"key": "k\\u001b[2J\\u202e"}\n')
    with pytest.raises(ExamError) as err:
        read_answers_jsonl(path)
    assert not _bad(str(err.value)) and "already answered on line 1" in str(err.value)

"""Issue 12 item 9: grading input is bounded, and import limits card text.

A 1 MB answer (56 s, 1.95 GB before) or a 1 MB reference (over 10 minutes) is graded from a
bounded sample whose size the result states; what reaches the model is asserted on, with the
real model (a recorder passes every call through to it). Imported answers/notes over the limit
are cut with a warning naming file:line; an over-long field in a content deck file is refused.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from labdeck.grading.bounds import MAX_GRADED_CHARS, MAX_KEY_POINTS
from labdeck.ingest.common import MAX_BODY_CHARS, TRUNCATED_MARK, ImportError_

REFERENCE = (
    "The encoder RNN reads the source sequence and compresses it into a fixed-length context "
    "vector, its final hidden state. The decoder RNN starts from this vector and generates the "
    "output one token at a time, feeding back its previous output."
)
ANSWER = "The encoder reads the source into a context vector; the decoder emits tokens one by one."
MEGABYTE = 1_000_000


def _huge(seed: str) -> str:
    sentence = f"{seed} The state number {{i}} is passed on, step by step, to the next one. "
    return "".join(sentence.format(i=i) for i in range(MEGABYTE // len(sentence) + 1))[:MEGABYTE]


class Recorder:
    """The real embedder, remembering every text it was asked to encode."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.model_id = inner.model_id
        self.texts: list[str] = []

    def encode(self, texts: list[str]) -> np.ndarray:
        self.texts.extend(texts)
        return self.inner.encode(texts)


@pytest.fixture(scope="module")
def embedder() -> Any:
    from labdeck.grading.embedder import load_embedder

    return load_embedder()


def _grade(embedder: Any, **item: Any) -> tuple[Any, Recorder]:
    from labdeck.grading.grader import Grader

    recorder = Recorder(embedder)
    result = Grader(recorder).grade(item.pop("reference"), item.pop("answer"), **item)
    return result, recorder


def _assert_bounded(recorder: Recorder) -> None:
    assert recorder.texts
    assert max(len(t) for t in recorder.texts) <= MAX_GRADED_CHARS
    # chunks, sentences, clauses and segments each cover the bounded text about once
    assert sum(len(t) for t in recorder.texts) <= 4 * MAX_GRADED_CHARS
    assert len(recorder.texts) <= 300


@pytest.mark.parametrize("side", ["answer", "reference", "notes"])
def test_a_megabyte_is_graded_from_a_bounded_sample(embedder: Any, side: str) -> None:
    huge = _huge("The encoder compresses the source into a context vector.")
    item = {"reference": REFERENCE, "answer": ANSWER, "notes": None, side: huge}
    result, recorder = _grade(embedder, **item)
    _assert_bounded(recorder)
    (cap,) = result.capped
    assert (cap.field, cap.chars, cap.limit) == (side, MEGABYTE, MAX_GRADED_CHARS)
    assert MAX_GRADED_CHARS * 0.9 <= cap.kept <= MAX_GRADED_CHARS
    assert result.to_dict()["capped"] == [cap.to_dict()]
    assert 0 <= result.quality <= 5


def test_text_within_the_cap_is_graded_whole(embedder: Any) -> None:
    result, recorder = _grade(embedder, reference=REFERENCE, answer=ANSWER)
    assert result.capped == () and "capped" not in result.to_dict()
    assert ANSWER in recorder.texts  # the whole answer is one of the embedded pieces


def test_key_points_are_capped_in_number(embedder: Any) -> None:
    points = [f"Point {i}: the decoder emits token {i}." for i in range(10 * MAX_KEY_POINTS)]
    result, _ = _grade(embedder, reference=REFERENCE, answer=ANSWER, key_points=points)
    assert len(result.key_points) == MAX_KEY_POINTS
    assert [c.field for c in result.capped] == ["key_points"]


def _env(home: Path) -> dict[str, str]:
    env = dict(os.environ, LABDECK_HOME=str(home), LABDECK_NO_CONTENT="1")
    src = str(Path(__file__).resolve().parents[2] / "src")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH")) if p)
    return env


def test_grade_command_states_the_cap(tmp_path: Path) -> None:
    huge = _huge("The decoder generates tokens.")
    data = tmp_path / "items.jsonl"
    data.write_text(json.dumps({"id": 1, "reference": REFERENCE, "answer": huge}) + "\n")
    cmd = [sys.executable, "-m", "labdeck.cli", "grade"]
    result = subprocess.run(
        [*cmd, "--jsonl", str(data)], env=_env(tmp_path), capture_output=True, timeout=300
    )
    assert result.returncode == 0, result.stderr.decode()
    (line,) = result.stdout.decode().splitlines()
    capped = json.loads(line)["capped"]
    assert capped == [
        {"field": "answer", "chars": MEGABYTE, "kept": capped[0]["kept"], "limit": MAX_GRADED_CHARS}
    ]
    # the human output says so too (an argument, so under the kernel's 128 KiB limit)
    answer = huge[:100_000]
    human = subprocess.run(
        [*cmd, "--reference", REFERENCE, "--answer", answer],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert human.returncode == 0, human.stderr
    assert "note: the answer is 100,000 characters; graded " in human.stdout
    assert f"cap {MAX_GRADED_CHARS:,})" in human.stdout


def test_import_cuts_an_over_long_answer_with_a_warning(tmp_path: Path) -> None:
    from labdeck.ingest.load import detect_and_parse

    path = tmp_path / "qa.md"
    body = _huge("Dropout zeroes units at random.")
    path.write_text(
        "# Q&A\n\n## Basics\n\n1. What is dropout?\n- Answer: " + body + "\n\n"
        "2. Why layer norm?\n- Answer: Stable training.\n",
        encoding="utf-8",
    )
    doc = detect_and_parse(path)
    first, second = doc.chapters[0].items
    assert first.body is not None and len(first.body) <= MAX_BODY_CHARS
    assert first.body.endswith(TRUNCATED_MARK) and first.body.startswith("Dropout zeroes")
    assert second.body == "Stable training."
    assert doc.warnings == [
        f"{path}:5: answer/notes of {len(body):,} characters cut to {MAX_BODY_CHARS:,} "
        "(import limit)"
    ]
    # the import report (CLI) carries the warning; the cut text is what is stored
    home = tmp_path / "home"
    home.mkdir()
    cmd = [sys.executable, "-m", "labdeck.cli"]
    result = subprocess.run(
        [*cmd, "import", str(path)], env=_env(home), capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert f"warning: {path}:5: answer/notes of" in result.stdout
    cards = subprocess.run(
        [*cmd, "cards", "--json"], env=_env(home), capture_output=True, text=True, timeout=120
    )
    stored = {c["prompt"]: c for c in json.loads(cards.stdout)}
    assert stored["What is dropout?"]["answer"] == first.body


def test_content_deck_refuses_an_over_long_answer(tmp_path: Path) -> None:
    from labdeck.ingest.deckfile import parse_deck_dir

    deck = tmp_path / "big"
    deck.mkdir()
    (deck / "deck.toml").write_text('key = "big"\nname = "Big"\n')
    (deck / "c1.toml").write_text(
        '[chapter]\ncode = "G1"\ntitle = "Big"\n\n[[cards]]\nid = "g1.1"\nprompt = "Q?"\n'
        f'answer = "{"word " * 5000}"\nkey_points = ["a point"]\n'
    )
    length = len(("word " * 5000).strip())
    with pytest.raises(ImportError_) as err:
        parse_deck_dir(deck)
    assert str(err.value) == (
        f"{deck / 'c1.toml'}:5: field 'answer' is {length:,} characters (limit {MAX_BODY_CHARS:,})"
    )

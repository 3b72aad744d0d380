"""Issue 12 item 8: Q&A questions numbered 1000 and up are questions, not part of an answer;
numbering that goes backwards is imported as written and reported with file:line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from labdeck.ingest.qa import parse_qa

NUMBERS = [*range(995, 1006), 9999, 10000, 10001]


def _document(numbers: list[int]) -> str:
    parts = ["# Big interview list\n\n## Section\n"]
    for n in numbers:
        parts.append(f"{n}. Question number {n}?\n- Answer: the answer to {n}.\n")
    return "\n".join(parts)


def test_any_number_starts_a_question(tmp_path: Path) -> None:
    path = tmp_path / "big.md"
    doc = parse_qa(path, _document(NUMBERS))
    items = [item for chapter in doc.chapters for item in chapter.items]
    assert [item.number for item in items] == NUMBERS
    for item in items:
        assert item.title == f"Question number {item.number}?"
        assert item.body == f"the answer to {item.number}."
    assert doc.warnings == []  # increasing numbers, even with a gap, are fine


def test_backwards_numbering_is_a_warning_with_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "jumbled.md"
    text = _document([1, 2, 3, 1000, 7])
    doc = parse_qa(path, text)
    assert [item.number for item in doc.chapters[0].items] == [1, 2, 3, 1000, 7]
    line = text.split("\n").index("7. Question number 7?") + 1
    assert doc.warnings == [
        f"{path}:{line}: question 7 follows question 1000 "
        "(numbering goes backwards; imported as written)"
    ]

    home = tmp_path / "home"
    home.mkdir()
    path.write_text(text, encoding="utf-8")
    env = dict(os.environ, LABDECK_HOME=str(home), LABDECK_NO_CONTENT="1")
    src = str(Path(__file__).resolve().parents[2] / "src")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH")) if p)
    result = subprocess.run(
        [sys.executable, "-m", "labdeck.cli", "import", str(path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "5 items" in result.stdout
    assert f"warning: {path}:{line}: question 7 follows question 1000" in result.stdout


def test_numbering_restarting_in_a_new_section_is_not_a_warning(tmp_path: Path) -> None:
    text = _document([1, 2]) + "\n## Next section\n\n" + _document([1, 2]).split("\n", 3)[3]
    doc = parse_qa(tmp_path / "sections.md", text)
    assert [len(c.items) for c in doc.chapters] == [2, 2]
    assert doc.warnings == []

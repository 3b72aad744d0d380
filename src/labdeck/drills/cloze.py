"""Anki's cloze syntax: ``{{c1::answer}}`` and ``{{c1::answer::hint}}``.

Each distinct deletion number becomes its own card; on that card the other deletions are shown
filled in and this one as ``[…]`` (or ``[hint]``), as Anki does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# The answer may not contain "::" or "}}"; a hint may not contain "}}".
CLOZE = re.compile(r"\{\{c(\d+)::(.+?)(?:::(.+?))?\}\}", re.S)
BLANK = "[…]"


@dataclass(frozen=True)
class Deletion:
    number: int
    answers: tuple[str, ...]  # every occurrence of cN, in order (usually one)
    hint: str | None


def deletions(text: str) -> list[Deletion]:
    """The deletions of a cloze text, by number (ascending)."""
    found: dict[int, tuple[list[str], str | None]] = {}
    for match in CLOZE.finditer(text):
        number = int(match.group(1))
        answers, hint = found.setdefault(number, ([], None))
        answers.append(match.group(2).strip())
        if match.group(3) and hint is None:
            found[number] = (answers, match.group(3).strip())
    return [Deletion(number=n, answers=tuple(found[n][0]), hint=found[n][1]) for n in sorted(found)]


def front(text: str, number: int) -> str:
    """The question side of deletion ``number``: it blanked, the others filled in."""

    def replace(match: re.Match[str]) -> str:
        if int(match.group(1)) == number:
            hint = match.group(3)
            return f"[{hint.strip()}]" if hint else BLANK
        return match.group(2).strip()

    return CLOZE.sub(replace, text)


def back(text: str) -> str:
    """The whole text with every deletion filled in."""
    return CLOZE.sub(lambda m: m.group(2).strip(), text)

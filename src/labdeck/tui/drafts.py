"""Unrated answers the learner left in Review, kept across sessions.

Within a session a draft keeps everything (the text, the grade, the ticks: ``Draft``); at the
end of the session its text and timing are written next to the database (``drafts.json``) and
the next session brings them back as typed answers (the grade is computed again with ctrl+s:
the same grader gives the same verdict). A missing or unreadable file is no drafts. This module
imports neither Textual nor the grader.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labdeck.config import home_dir

FILE = "drafts.json"
VERSION = 1


@dataclass
class Draft:
    """An unrated answer kept when the learner leaves it (``review`` module doc)."""

    text: str
    result: Any  # GradeResult or DrillResult, or None when not graded (or from an earlier session)
    ticks: Any  # labdeck.grading.checklist.Ticks, or None
    answer_ms: int | None


def load(home: Path | None) -> dict[int, Draft]:
    """The drafts the last session left (card id -> draft)."""
    try:
        payload = json.loads((home_dir(home) / FILE).read_text(encoding="utf-8"))
        if payload.get("version") != VERSION:
            return {}
        drafts = {}
        for key, row in payload["drafts"].items():
            ms = row.get("answer_ms")
            drafts[int(key)] = Draft(str(row["text"]), None, None, int(ms) if ms else None)
        return drafts
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def save(home: Path | None, drafts: dict[int, Draft]) -> None:
    """Write the drafts with text for the next session (none: the file is removed)."""
    target = home_dir(home) / FILE
    rows = {
        str(card_id): {"text": d.text, "answer_ms": d.answer_ms}
        for card_id, d in drafts.items()
        if d.text.strip()
    }
    try:
        if not rows:
            target.unlink(missing_ok=True)
            return
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_text(json.dumps({"version": VERSION, "drafts": rows}), encoding="utf-8")
        os.replace(tmp, target)
    except OSError:
        pass  # the drafts are lost, as they were before this file existed; nothing else is

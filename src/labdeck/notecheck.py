"""'Check your note': a shipped correction shown when the learner's notes on an item still say
something known to be wrong (content/README.md, ``note_checks.toml``)."""

from __future__ import annotations

import re
import unicodedata
from typing import Any


def note_flag(notes: str | None, check: dict[str, Any] | None) -> str | None:
    """The correction to show next to ``notes``, or None."""
    if not check or not (notes or "").strip():
        return None
    pattern = check.get("pattern")
    if pattern:
        from labdeck.textfmt import to_simplified

        folded = to_simplified(unicodedata.normalize("NFKC", notes or "")).casefold()
        if not re.search(pattern, folded, re.IGNORECASE | re.S):
            return None
    says = check.get("says") or ""
    correction = check.get("correction") or ""
    return f"{says} {correction}".strip() if says else correction

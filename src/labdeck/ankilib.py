"""What labdeck shares with Anki: the lazy import of the ``anki`` package and the mapping
between SM-2 qualities (0-5) and Anki's four answer buttons.

SM-2 quality -> Anki button: 0, 1, 2 -> Again (1); 3 -> Hard (2); 4 -> Good (3); 5 -> Easy (4).
Anki button -> SM-2 quality: Again -> 1, Hard -> 3, Good -> 4, Easy -> 5.
"""

from __future__ import annotations

from types import ModuleType


class AnkiMissing(ValueError):
    """The optional ``anki`` package is not installed (one line for the CLI)."""


QUALITY_TO_BUTTON = {0: 1, 1: 1, 2: 1, 3: 2, 4: 3, 5: 4}
BUTTON_TO_QUALITY = {1: 1, 2: 3, 3: 4, 4: 5}

# Anki's card types / queues and revlog kinds (rslib/src/card/mod.rs, revlog/mod.rs).
CARD_NEW, CARD_LEARN, CARD_REVIEW, CARD_RELEARN = 0, 1, 2, 3
QUEUE_SUSPENDED, QUEUE_NEW, QUEUE_REVIEW = -1, 0, 2
REVLOG_LEARN, REVLOG_REVIEW, REVLOG_RELEARN, REVLOG_FILTERED, REVLOG_MANUAL = 0, 1, 2, 3, 4


def button_for_quality(quality: int) -> int:
    return QUALITY_TO_BUTTON[quality]


def quality_for_button(button: int) -> int | None:
    """None for a revlog row that is not an answer (ease 0: a manual reschedule)."""
    return BUTTON_TO_QUALITY.get(button)


def load_anki() -> ModuleType:
    """``anki.collection``, imported only when an Anki command runs (it is ~10 MB of Rust)."""
    try:
        import anki.collection
    except ImportError:
        raise AnkiMissing(
            "the 'anki' package is needed for .apkg/.colpkg files: pip install 'labdeck[anki]'"
        ) from None
    return anki.collection

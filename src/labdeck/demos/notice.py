"""The "what to notice" block shown after a demo run (CLI and TUI build it here, once).

It names the key point of the card the run was started from that the demo illustrates (the
first key point that mentions one of the demo's concepts), then the demo's own notes on what to
look at. Standard library only: the CLI and the TUI import this at start-up.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from labdeck.demos import registry


def card_point(demo: registry.Demo, key_points: Sequence[str]) -> str | None:
    """The card's key point this demo illustrates, or None when none names its concepts."""
    for point in key_points:
        folded = point.casefold()
        if any(concept in folded for concept in demo.concepts):
            return point
    return None


def card_key_points(store: Any, card_key: str | None) -> list[str]:
    """Key points of the card ``card_key`` ([] when there is no such card or no store)."""
    if store is None or not card_key:
        return []
    from sqlmodel import select

    from labdeck.store.models import Card

    with store.session() as s:
        card = s.exec(select(Card).where(Card.key == card_key)).first()
        return list(card.key_points or []) if card is not None else []


def notice_lines(
    demo: registry.Demo, card_key: str | None = None, key_points: Sequence[str] = ()
) -> list[str]:
    """The block's lines: a heading, the card's point (when started from a card), the notes."""
    lines = ["What to notice"]
    point = card_point(demo, key_points) if key_points else None
    if card_key and point:
        lines.append(f"Card {card_key}: {point}")
    elif card_key:
        lines.append(f"Card {card_key}: the run shows {', '.join(demo.concepts[:3])}.")
    lines += unwrapped(demo.notice)
    return lines


def unwrapped(text: str) -> list[str]:
    """``text``'s paragraphs and bullet points, one a line: the notes are written wrapped at
    ~88 columns, and drawn as they were in a narrower pane they broke mid-sentence ("padding
    / and future / tokens…"); a screen or terminal wraps each entry at its own width."""
    entries: list[str] = []
    joined = False  # the next line continues the last entry
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            joined = False
        elif joined and not line.startswith(("- ", "• ", "* ")):
            entries[-1] = f"{entries[-1]} {line}"
        else:
            entries.append(line)
            joined = True
    return entries

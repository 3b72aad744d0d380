"""Helpers shared by the mock-exam tests (importable: pytest puts this folder on sys.path)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

START = datetime(2025, 5, 12, 9, 0, tzinfo=UTC)


class FakeClock:
    """An injectable ``now()`` that only moves when told to."""

    def __init__(self, start: datetime = START) -> None:
        self.t = start

    def __call__(self) -> datetime:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += timedelta(seconds=seconds)


def add_card_without_reference(store: Any, chapter_code: str, key: str) -> None:
    """Insert a learner's own card with no reference answer (self-graded only)."""
    from sqlmodel import select

    from labdeck.store.models import Card, CardState, Chapter

    now = datetime(2025, 1, 1, tzinfo=UTC)
    with store.session() as s:
        chapter = s.exec(select(Chapter).where(Chapter.code == chapter_code)).one()
        card = Card(
            key=key,
            deck_id=chapter.deck_id,
            chapter_id=chapter.id or 0,
            position=99,
            prompt="My own question without a reference answer?",
            answer=None,
            created_at=now,
            updated_at=now,
        )
        s.add(card)
        s.flush()
        s.add(CardState(card_id=card.id or 0))

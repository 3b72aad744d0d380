"""Time is injected: everything that needs "now" calls this (LABDECK_NOW overrides the clock)."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta


class ClockError(ValueError):
    pass


def now() -> datetime:
    """The current time, timezone-aware. ``LABDECK_NOW`` (ISO date-time) replaces the clock."""
    fixed = os.environ.get("LABDECK_NOW")
    if fixed:
        try:
            value = datetime.fromisoformat(fixed)
        except ValueError as exc:
            raise ClockError(f"LABDECK_NOW={fixed!r} is not an ISO date-time") from exc
        if value.tzinfo is None:
            value = value.astimezone()  # interpret as local time
        return value
    return datetime.now(UTC).astimezone()


def study_day(moment: datetime, rollover_hour: int = 4) -> date:
    """The study day a moment belongs to: days roll over at ``rollover_hour`` local time."""
    local = moment.astimezone() if moment.tzinfo else moment
    return (local - timedelta(hours=rollover_hour)).date()

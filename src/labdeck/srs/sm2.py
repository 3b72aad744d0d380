"""SM-2, exactly as SuperMemo defined it (P. A. Wozniak, super-memory.com/english/ol/sm2.htm).

One pure, clock-free step function: ``next_state(state, quality) -> State``.

Quality q ∈ {0,…,5}: 5 perfect; 4 correct after hesitation; 3 correct with serious difficulty;
2 incorrect, but the answer seemed easy to recall; 1 incorrect, remembered on seeing the answer;
0 complete blackout.

A new item has n = 0 repetitions and E-Factor EF = 2.5. On a scheduled review:

* q ≥ 3:  EF' = max(1.3, EF + (0.1 − (5−q)·(0.08 + (5−q)·0.02)))      (+0.10, 0, −0.14)
          I   = 1 if n = 0;  6 if n = 1;  ⌈I_prev · EF'⌉ otherwise
          n  += 1
* q < 3:  n = 0, I = 1, EF unchanged ("start repetitions for the item from the beginning
          without changing the E-Factor").

Every EF change is a multiple of 0.02, so the E-Factor is kept exact as a ``Decimal`` with two
places (the database stores it as integer per-mille, like Anki's factor). With binary floats,
⌈6 × 2.1666…⌉-style products such as 13.000000000000002 would land a day late.

Same-day re-drills (items answered with q < 4 shown again until they score ≥ 4) never call this
function: only the day's scheduled review moves n, EF and I (see ``labdeck.srs.scheduler``).
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Protocol

QUALITIES: tuple[int, ...] = (0, 1, 2, 3, 4, 5)
PASS = 3  # q ≥ 3: the item was recalled; the schedule moves on
REDRILL_BELOW = 4  # q < 4: shown again the same day
DEFAULT_EASE = Decimal("2.50")
MIN_EASE = Decimal("1.30")
_CENT = Decimal("0.01")
_PERMILLE = Decimal(1000)

EaseLike = int | float | Decimal | str


class StateLike(Protocol):
    repetitions: int
    ease: Any
    interval: int


def to_ease(value: EaseLike) -> Decimal:
    """An E-Factor as an exact ``Decimal`` with two places (2.5 → Decimal('2.50'))."""
    if isinstance(value, bool):
        raise TypeError("ease must be a number, not a bool")
    try:
        if isinstance(value, Decimal):
            number = value
        elif isinstance(value, float):
            if not math.isfinite(value):
                raise ValueError(f"ease must be finite, got {value!r}")
            number = Decimal(repr(value))  # shortest repr: 2.36 stays 2.36, not 2.3599999…
        elif isinstance(value, int | str):
            number = Decimal(value.strip() if isinstance(value, str) else value)
        else:
            number = Decimal(str(value))
        if not number.is_finite():
            raise ValueError(f"ease must be finite, got {value!r}")
        return number.quantize(_CENT, rounding=ROUND_HALF_UP)
    except InvalidOperation:
        raise ValueError(f"ease must be a number, got {value!r}") from None


def ease_permille(ease: EaseLike) -> int:
    """E-Factor → integer per-mille as stored in ``card_state.ease`` (2.5 → 2500)."""
    return int(to_ease(ease) * _PERMILLE)


def ease_from_permille(permille: int) -> Decimal:
    """Integer per-mille from the database → exact E-Factor (2360 → Decimal('2.36'))."""
    return to_ease(Decimal(operator.index(permille)) / _PERMILLE)


def check_quality(quality: object) -> int:
    """Validate a quality grade; returns it as an ``int`` (ValueError when not 0…5)."""
    if isinstance(quality, bool):
        raise ValueError(f"quality must be an integer 0–5, got {quality!r}")
    try:
        q = operator.index(quality)  # type: ignore[arg-type]
    except TypeError:
        if isinstance(quality, float) and quality.is_integer():
            q = int(quality)
        else:
            raise ValueError(f"quality must be an integer 0–5, got {quality!r}") from None
    if not 0 <= q <= 5:
        raise ValueError(f"quality must be an integer 0–5, got {q}")
    return q


def ease_delta(quality: int) -> Decimal:
    """EF change for a passing answer: 0.1 − (5−q)(0.08 + (5−q)·0.02)."""
    d = Decimal(5 - check_quality(quality))
    return Decimal("0.1") - d * (Decimal("0.08") + d * Decimal("0.02"))


@dataclass(frozen=True)
class State:
    """SM-2 state of one item: repetitions n, E-Factor (exact Decimal), interval I in days."""

    repetitions: int = 0
    ease: Decimal = DEFAULT_EASE
    interval: int = 0

    def __post_init__(self) -> None:
        reps = operator.index(self.repetitions)
        interval = operator.index(self.interval)
        if reps < 0 or interval < 0:
            raise ValueError("repetitions and interval must be ≥ 0")
        object.__setattr__(self, "repetitions", reps)
        object.__setattr__(self, "interval", interval)
        object.__setattr__(self, "ease", to_ease(self.ease))

    @property
    def ease_permille(self) -> int:
        return ease_permille(self.ease)

    @classmethod
    def from_permille(cls, repetitions: int, ease: int, interval: int) -> State:
        """Build from the database columns (ease in per-mille)."""
        return cls(repetitions, ease_from_permille(ease), interval)

    @classmethod
    def of(cls, state: StateLike | State) -> State:
        """Accept any object with ``repetitions``, ``ease`` and ``interval``."""
        if isinstance(state, State):
            return state
        return cls(state.repetitions, state.ease, state.interval)


def next_state(state: StateLike | State, quality: int) -> State:
    """One scheduled review of an item (pure, clock-free). See the module docstring."""
    s = State.of(state)
    q = check_quality(quality)
    if q < PASS:
        return State(0, s.ease, 1)
    ease = max(MIN_EASE, s.ease + ease_delta(q))
    if s.repetitions == 0:
        interval = 1
    elif s.repetitions == 1:
        interval = 6
    else:
        interval = int((s.interval * ease).to_integral_value(rounding=ROUND_CEILING))
    return State(s.repetitions + 1, ease, interval)


def preview(state: StateLike | State) -> dict[int, int]:
    """Quality → the interval (days) a scheduled review with that quality would give."""
    s = State.of(state)
    return {q: next_state(s, q).interval for q in QUALITIES}


def run(qualities: list[int] | tuple[int, ...], state: StateLike | State | None = None) -> State:
    """Apply a sequence of scheduled reviews (one per study day) to a state."""
    s = State.of(state) if state is not None else State()
    for q in qualities:
        s = next_state(s, q)
    return s

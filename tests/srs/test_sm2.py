"""SM-2 step function: hand-computed sequences, an independent reference, properties."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labdeck.srs import sm2
from labdeck.srs.sm2 import State, next_state

# (qualities, expected (n, EF, I) after each step), computed by hand from the SM-2 rules.
TABLE: list[tuple[list[int], list[tuple[int, str, int]]]] = [
    # q=5: EF +0.10 each time; I = 1, 6, ceil(6·2.8)=17, ceil(17·2.9)=50
    ([5, 5, 5, 5], [(1, "2.6", 1), (2, "2.7", 6), (3, "2.8", 17), (4, "2.9", 50)]),
    # q=4: EF unchanged; I = 1, 6, 15, ceil(15·2.5)=38, 38·2.5=95
    (
        [4, 4, 4, 4, 4],
        [(1, "2.5", 1), (2, "2.5", 6), (3, "2.5", 15), (4, "2.5", 38), (5, "2.5", 95)],
    ),
    # q=3: EF −0.14 each time, floored at 1.3; I = 1, 6, ceil(6·2.08)=13, ceil(13·1.94)=26, …
    (
        [3] * 10,
        [
            (1, "2.36", 1),
            (2, "2.22", 6),
            (3, "2.08", 13),
            (4, "1.94", 26),
            (5, "1.80", 47),
            (6, "1.66", 79),
            (7, "1.52", 121),
            (8, "1.38", 167),
            (9, "1.30", 218),
            (10, "1.30", 284),
        ],
    ),
    # a lapse restarts n and I but keeps EF
    (
        [5, 5, 2, 4, 4, 4],
        [(1, "2.6", 1), (2, "2.7", 6), (0, "2.7", 1), (1, "2.7", 1), (2, "2.7", 6), (3, "2.7", 17)],
    ),
    # failing a new item: n stays 0, I = 1, EF stays 2.5 (q = 0 would be −0.8 in the formula)
    ([0, 1, 2, 5], [(0, "2.5", 1), (0, "2.5", 1), (0, "2.5", 1), (1, "2.6", 1)]),
    # the binary-float trap: 50 × 2.9 is exactly 145, floats give 145.00000000000003 → 146
    (
        [5, 5, 5, 5, 4],
        [(1, "2.6", 1), (2, "2.7", 6), (3, "2.8", 17), (4, "2.9", 50), (5, "2.9", 145)],
    ),
]


@pytest.mark.parametrize(("qualities", "expected"), TABLE)
def test_hand_computed_sequences(
    qualities: list[int], expected: list[tuple[int, str, int]]
) -> None:
    state = State()
    for q, (n, ef, interval) in zip(qualities, expected, strict=True):
        state = next_state(state, q)
        assert (state.repetitions, state.ease, state.interval) == (n, Decimal(ef), interval)
        assert isinstance(state.ease, Decimal)


def reference(qualities: list[int]) -> list[tuple[int, int, int]]:
    """An independent SM-2 in integer hundredths of the E-Factor."""
    n, ef, interval = 0, 250, 0
    out = []
    for q in qualities:
        if q >= 3:
            ef = max(130, ef + 10 - (5 - q) * (8 + (5 - q) * 2))
            if n == 0:
                interval = 1
            elif n == 1:
                interval = 6
            else:
                interval = -(-interval * ef // 100)  # ceil
            n += 1
        else:
            n, interval = 0, 1
        out.append((n, ef, interval))
    return out


def test_matches_independent_reference_on_random_sequences() -> None:
    rng = random.Random(20260301)
    for _ in range(3000):
        weights = rng.choice([(1, 1, 1, 1, 1, 1), (1, 1, 2, 4, 6, 6), (0, 0, 0, 3, 2, 1)])
        qualities = rng.choices(range(6), weights=weights, k=rng.randint(1, 30))
        state = State()
        for q, (n, ef, interval) in zip(qualities, reference(qualities), strict=True):
            state = next_state(state, q)
            assert (state.repetitions, state.ease_permille, state.interval) == (
                n,
                ef * 10,
                interval,
            )


@settings(max_examples=300, deadline=None, database=None)
@given(st.lists(st.integers(0, 5), min_size=1, max_size=40))
def test_properties(qualities: list[int]) -> None:
    state = State()
    passes_in_a_row: list[State] = []
    for q in qualities:
        new = next_state(state, q)
        assert new.ease >= Decimal("1.3")
        assert (new.ease * 100) % 2 == 0  # every change is a multiple of 0.02 from 2.50
        if q < 3:
            assert new.ease == state.ease
            assert (new.repetitions, new.interval) == (0, 1)
            passes_in_a_row = []
        else:
            assert new.repetitions == state.repetitions + 1
            passes_in_a_row.append(new)
        state = new
    # since the last lapse (or the start): intervals run 1, 6, ceil(6·EF), ceil(I·EF), …
    for i, s in enumerate(passes_in_a_row):
        if i == 0:
            assert s.interval == 1
        elif i == 1:
            assert s.interval == 6
        else:
            prev = passes_in_a_row[i - 1].interval
            assert s.interval == -(-prev * s.ease_permille // 1000)
            assert s.interval >= prev


@settings(database=None)
@given(st.integers(0, 50), st.integers(130, 400), st.integers(0, 5000), st.integers(0, 5))
def test_pure_and_preview(reps: int, ef: int, interval: int, q: int) -> None:
    state = State(reps, Decimal(ef) / 100, interval)
    assert next_state(state, q) == next_state(state, q)
    assert state == State(reps, Decimal(ef) / 100, interval)  # frozen, untouched
    assert sm2.preview(state)[q] == next_state(state, q).interval


def test_ease_normalisation() -> None:
    assert State().ease == Decimal("2.50") and State().interval == 0 and State().repetitions == 0
    for value in (2.5, "2.5", Decimal("2.5000"), " 2.50 "):
        assert State(ease=value).ease == Decimal("2.5")
    assert State(ease=2).ease == Decimal("2.00")
    assert State(ease=2.36).ease == Decimal("2.36")
    assert State(ease=2.36 + 1e-12).ease == Decimal("2.36")
    assert State(ease=2.3600000000000003).ease_permille == 2360
    assert sm2.ease_from_permille(1300) == Decimal("1.3")
    assert sm2.ease_permille("2.22") == 2220
    assert State.from_permille(3, 2080, 13) == State(3, "2.08", 13)
    with pytest.raises(ValueError):
        State(ease="fast")
    with pytest.raises(ValueError):
        State(ease=float("nan"))
    with pytest.raises(TypeError):
        State(ease=True)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        State(repetitions=-1)


def test_accepts_any_state_like_object() -> None:
    class Mine:
        repetitions, ease, interval = 2, 2.5, 6

    assert next_state(Mine(), 5) == State(3, "2.6", 16)


@pytest.mark.parametrize("bad", [-1, 6, 2.5, "3", None, True])
def test_quality_out_of_range(bad: object) -> None:
    with pytest.raises(ValueError):
        next_state(State(), bad)  # type: ignore[arg-type]


def test_ease_delta_values() -> None:
    assert [sm2.ease_delta(q) for q in (5, 4, 3)] == [Decimal("0.1"), 0, Decimal("-0.14")]
    assert sm2.preview(State()) == dict.fromkeys(range(6), 1)
    assert sm2.preview(State(1, "2.5", 1)) == {0: 1, 1: 1, 2: 1, 3: 6, 4: 6, 5: 6}

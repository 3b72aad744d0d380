"""Fitting a deck's FSRS parameters to the learner's review log (py-fsrs' ``Optimizer``).

The data are the deck's scheduled, not-undone answers (re-drills are not FSRS reviews), one
``fsrs.ReviewLog`` per answer at noon UTC of its study day (``fsrs_step``). py-fsrs only fits
when it has at least ``MIN_REVIEWS`` reviews that came a day or more after the card's previous
one, counting each card's first ``MAX_SEQ_LEN`` reviews only (it silently returns its defaults
below that), so fewer are refused with a clear message.

Both parameter sets are scored on the same answers: log-loss of the predicted recall
probability against pass/fail (q ≥ 3), and RMSE (bins): predictions grouped into
``BINS`` equal-width bins of predicted probability, the root of the count-weighted mean squared
gap between each bin's mean prediction and its observed pass rate. The scores are in-sample.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from labdeck.srs import fsrs_step, sm2

MIN_REVIEWS = 512  # py-fsrs' Optimizer: mini_batch_size; fewer reviews give its defaults back
MAX_SEQ_LEN = 64  # py-fsrs' Optimizer learns from the first 64 reviews of each card only
BINS = 20
_EPS = 1e-7


@dataclass(frozen=True)
class Score:
    log_loss: float
    rmse_bins: float
    reviews: int  # reviews scored (a day or more after the card's previous review)


@dataclass(frozen=True)
class FitReport:
    default: Score
    fitted: Score
    parameters: list[float]


class NotEnoughReviews(ValueError):
    pass


def _predictions(
    parameters: Sequence[float] | None, histories: Iterable[Sequence[tuple[date, int]]]
) -> list[tuple[float, int]]:
    """(predicted recall, recalled 0/1) for every review a day or more after the last one."""
    from fsrs import Card

    scheduler = fsrs_step.make_scheduler(parameters)
    out = []
    for history in histories:
        card = Card(card_id=1, due=fsrs_step.moment(history[0][0]))
        for day, q in history:
            when = fsrs_step.moment(day)
            if card.last_review is not None and (when - card.last_review).days > 0:
                r = float(scheduler.get_card_retrievability(card, when))
                out.append((r, int(q >= sm2.PASS)))
            card, _ = scheduler.review_card(card, fsrs_step.rating(q), when)
    return out


def fit_reviews(histories: Iterable[Sequence[tuple[date, int]]]) -> int:
    """How many reviews the optimizer learns from: among each card's first ``MAX_SEQ_LEN``,
    those a day or more after the previous one."""
    count = 0
    for history in histories:
        first = history[:MAX_SEQ_LEN]
        count += sum(1 for a, b in itertools.pairwise(first) if b[0] > a[0])
    return count


def score(
    parameters: Sequence[float] | None, histories: Iterable[Sequence[tuple[date, int]]]
) -> Score:
    pairs = _predictions(parameters, histories)
    if not pairs:
        return Score(math.nan, math.nan, 0)
    loss = 0.0
    bins: dict[int, list[float]] = {}
    for p, y in pairs:
        p = min(max(p, _EPS), 1 - _EPS)
        loss -= y * math.log(p) + (1 - y) * math.log(1 - p)
        b = bins.setdefault(min(int(p * BINS), BINS - 1), [0.0, 0.0, 0.0])
        b[0] += p
        b[1] += y
        b[2] += 1
    sq = sum(n * (sp / n - sy / n) ** 2 for sp, sy, n in bins.values())
    return Score(loss / len(pairs), math.sqrt(sq / len(pairs)), len(pairs))


def optimize(histories: dict[int, list[tuple[date, int]]]) -> FitReport:
    """Fit FSRS parameters to these card histories (imports torch: call it lazily)."""
    n = fit_reviews(histories.values())
    if n < MIN_REVIEWS:
        raise NotEnoughReviews(
            f"FSRS needs at least {MIN_REVIEWS} reviews that came a day or more after the "
            f"card's previous one (first {MAX_SEQ_LEN} of each card) to fit parameters; "
            f"this deck has {n}"
        )
    from fsrs import Optimizer

    logs = [log for cid, h in histories.items() for log in fsrs_step.review_logs(h, cid)]
    fitted = [float(p) for p in Optimizer(logs).compute_optimal_parameters(verbose=False)]
    return FitReport(score(None, histories.values()), score(fitted, histories.values()), fitted)

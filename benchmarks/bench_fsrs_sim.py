"""SM-2 vs FSRS on simulated learners (not a test): the shipped deck's essay cards, 180 days.

    python benchmarks/bench_fsrs_sim.py [--days N] [--new N] [--seed N] [--markdown]

Ground truth: each learner's memory follows FSRS's own model (py-fsrs ``Scheduler`` with that
learner's parameters): the chance of recalling a card on a day is FSRS's retrievability, and
every scheduled answer updates the true memory state as FSRS says. Three learners: py-fsrs'
default parameters, a fast forgetter (initial stabilities × 0.4, weaker stability growth) and a
slow forgetter (initial stabilities × 2.5, stronger growth).

Study rules are labdeck's (the same step functions ``Scheduler.answer`` uses: ``sm2.next_state``
and ``fsrs_step.Step``): up to ``--new`` new cards a day in deck order, at most 200 reviews a
day (most overdue first), a scheduled answer q < 4 is re-drilled the same day until q ≥ 4
(re-drills cost time but move neither the schedule nor, here, the true memory). A recalled card
is rated 3 / 4 / 5 with probability 0.15 / 0.7 / 0.15, a forgotten one 1; a new card's first
answer is recalled with probability 0.5. A re-drill succeeds (q ≥ 4) with probability 0.75.
Time: 40 s per scheduled essay answer, 20 s per re-drill.

Schedulers: SM-2; FSRS with py-fsrs' default parameters (a learner who never ran
``labdeck fsrs optimize``); FSRS with defaults until ``--fit-day`` (90), then with
parameters fitted by py-fsrs' optimizer on the answers so far (what ``labdeck fsrs optimize``
does); FSRS with the learner's own parameters (a perfect fit). All at desired retention 0.9. Exam day is the day after the last study day: "recall" is the mean
true probability of recalling a card that day, "≥ 90 %" the share of cards at 0.9 or more.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import fsrs
from fsrs.scheduler import DEFAULT_PARAMETERS

from labdeck.srs import fsrs_fit, fsrs_step, sm2

START = date(2026, 1, 5)
REVIEWS_PER_DAY = 200
SECONDS_REVIEW, SECONDS_REDRILL = 40, 20
PASS_GRADES = ((3, 0.15), (4, 0.70), (5, 0.15))
FIRST_RECALL, REDRILL_OK = 0.5, 0.75
FITTED = "fsrs (fitted)"
SCHEDULERS = ("sm2", "fsrs (defaults)", FITTED, "fsrs (own params)")


def learners() -> dict[str, tuple[float, ...]]:
    fast = list(DEFAULT_PARAMETERS)
    fast[0:4] = [p * 0.4 for p in fast[0:4]]
    fast[8] = 1.3
    slow = list(DEFAULT_PARAMETERS)
    slow[0:4] = [p * 2.5 for p in slow[0:4]]
    slow[8] = 2.4
    return {
        "default": DEFAULT_PARAMETERS,
        "fast forgetter": tuple(fast),
        "slow forgetter": tuple(slow),
    }


def essay_cards() -> int:
    from labdeck.config import content_dir
    from labdeck.ingest.deckfile import parse_deck_dir

    root = content_dir()
    decks = sorted(p for p in root.iterdir() if (p / "deck.toml").exists())
    return sum(len(ch.cards) for d in decks for ch in parse_deck_dir(d).chapters)


@dataclass
class SimCard:
    truth: fsrs.Card
    state: sm2.State = field(default_factory=sm2.State)
    due: date | None = None
    history: list[tuple[date, int]] = field(default_factory=list)


@dataclass(frozen=True)
class Result:
    learner: str
    scheduler: str
    reviews_per_day: float  # scheduled answers, mean over the study days
    answers: int  # scheduled answers + re-drills, whole period
    minutes_per_day: float
    recall: float  # mean true recall probability on exam day
    share_90: float  # share of cards with true recall ≥ 0.9 on exam day
    note: str = ""


def grade(rng: random.Random, recalled: bool) -> int:
    if not recalled:
        return 1
    x, acc = rng.random(), 0.0
    for q, p in PASS_GRADES:
        acc += p
        if x < acc:
            return q
    return 5


def simulate(
    learner: str, truth_params: tuple[float, ...], scheduler: str, n_cards: int, args
) -> Result:
    rng = random.Random(f"{args.seed}:{learner}:{scheduler}")
    truth = fsrs_step.make_scheduler(truth_params)
    sched_params = {"fsrs (own params)": truth_params, "fsrs (defaults)": None}.get(scheduler)
    fs = fsrs_step.make_scheduler(sched_params, 0.9) if scheduler != "sm2" else None
    cards = [SimCard(fsrs.Card(card_id=i + 1)) for i in range(n_cards)]
    unseen = iter(cards)
    scheduled = redrills = 0
    fit_note = ""
    for offset in range(args.days):
        day = START + timedelta(days=offset)
        if scheduler == FITTED and offset == args.fit_day:
            report = fsrs_fit.optimize({i: c.history for i, c in enumerate(cards) if c.history})
            fs = fsrs_step.make_scheduler(report.parameters, 0.9)
            d, f = report.default, report.fitted
            fit_note = (
                f"{learner}: fitted on day {offset} from {d.reviews} reviews; log-loss "
                f"{d.log_loss:.3f} -> {f.log_loss:.3f}, RMSE (bins) {d.rmse_bins:.3f} -> "
                f"{f.rmse_bins:.3f}"
            )
        due = sorted((c for c in cards if c.due is not None and c.due <= day), key=lambda c: c.due)[
            :REVIEWS_PER_DAY
        ]
        new = [c for _, c in zip(range(args.new), unseen, strict=False)]
        for card in due + new:
            if card.history:
                r = truth.get_card_retrievability(card.truth, fsrs_step.moment(day))
            else:
                r = FIRST_RECALL
            q = grade(rng, rng.random() < r)
            step = sm2.next_state if fs is None else fsrs_step.Step(fs, card.history, day)
            card.state = step(card.state, q)
            card.due = day + timedelta(days=card.state.interval)
            card.history.append((day, q))
            card.truth, _ = truth.review_card(
                card.truth, fsrs_step.rating(q), fsrs_step.moment(day)
            )
            scheduled += 1
            while q < sm2.REDRILL_BELOW:
                redrills += 1
                q = 4 if rng.random() < REDRILL_OK else 2
    exam = START + timedelta(days=args.days)
    recall = [
        truth.get_card_retrievability(c.truth, fsrs_step.moment(exam)) if c.history else 0.0
        for c in cards
    ]
    seconds = scheduled * SECONDS_REVIEW + redrills * SECONDS_REDRILL
    return Result(
        learner,
        scheduler,
        scheduled / args.days,
        scheduled + redrills,
        seconds / 60 / args.days,
        sum(recall) / len(recall),
        sum(r >= 0.9 for r in recall) / len(recall),
        fit_note,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--new", type=int, default=20)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--fit-day", type=int, default=90, help="day 'fsrs (fitted)' runs the optimizer"
    )
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = parser.parse_args()
    n_cards = essay_cards()
    started = time.perf_counter()
    results = [
        simulate(name, params, sched, n_cards, args)
        for name, params in learners().items()
        for sched in SCHEDULERS
    ]
    print(
        f"{n_cards} essay cards, {args.new} new/day, {args.days} days, seed {args.seed} "
        f"({time.perf_counter() - started:.1f} s)"
    )
    head = ("learner", "scheduler", "reviews/day", "answers", "min/day", "exam recall", "≥ 90 %")
    if args.markdown:
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
    else:
        print(
            f"{head[0]:<16}{head[1]:<20}{head[2]:>12}{head[3]:>9}{head[4]:>9}{head[5]:>13}{head[6]:>8}"
        )
    for r in results:
        cells = (
            r.learner,
            r.scheduler,
            f"{r.reviews_per_day:.1f}",
            f"{r.answers}",
            f"{r.minutes_per_day:.1f}",
            f"{r.recall:.1%}",
            f"{r.share_90:.0%}",
        )
        if args.markdown:
            print("| " + " | ".join(cells) + " |")
        else:
            print(
                f"{cells[0]:<16}{cells[1]:<20}{cells[2]:>12}{cells[3]:>9}{cells[4]:>9}"
                f"{cells[5]:>13}{cells[6]:>8}"
            )
    for r in results:
        if r.note:
            print(r.note)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

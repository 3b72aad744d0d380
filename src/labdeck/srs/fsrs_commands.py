"""``labdeck deck scheduler DECK sm2|fsrs``, ``labdeck deck exam-date DECK [DATE]``, ``labdeck fsrs optimize | retention`` and
``labdeck stats`` (today, retention, FSRS's predicted retrievability per deck)."""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict, replace

from labdeck.srs.commands import _print_json, _scheduler


def _fail(message: str) -> int:
    print(f"labdeck: {message}", file=sys.stderr)
    return 1


def cmd_deck_scheduler(args: argparse.Namespace) -> int:
    from labdeck.config import save_settings
    from labdeck.srs import fsrs_deck
    from labdeck.srs.scheduler import SrsError

    sched = _scheduler(args)
    try:
        with sched.transaction() as conn:
            (deck,) = sched.repo.decks(conn, args.deck)
            result = fsrs_deck.convert(conn, sched.settings, deck.id, deck.key, args.scheduler)
    except SrsError as exc:
        return _fail(str(exc))
    schedulers = {**sched.settings.deck_schedulers, deck.key: args.scheduler}
    save_settings(replace(sched.settings, deck_schedulers=schedulers))
    if args.json:
        _print_json(asdict(result))
    else:
        print(
            f"{deck.key}: now scheduled by {args.scheduler}; {result.cards} cards rebuilt from "
            f"{result.reviews} scheduled answers (review log kept)"
        )
    return 0


def cmd_exam_date(args: argparse.Namespace) -> int:
    from labdeck.config import save_settings
    from labdeck.srs.exam_date import ExamDateError, parse_exam_date
    from labdeck.srs.scheduler import SrsError

    sched = _scheduler(args)
    try:
        with sched.repo.read() as conn:
            (deck,) = sched.repo.decks(conn, args.deck)
        if args.clear and args.date:
            return _fail("give a date or --clear, not both")
        dates = dict(sched.settings.exam_dates)
        if args.clear:
            dates.pop(deck.key, None)
        elif args.date:
            dates[deck.key] = parse_exam_date(args.date).isoformat()
    except (SrsError, ExamDateError) as exc:
        return _fail(str(exc))
    if args.clear or args.date:
        sched.settings = replace(sched.settings, exam_dates=dates)
        save_settings(sched.settings)
    found = sched.exam_projections(deck.key)
    if args.json:
        _print_json({"deck": deck.key, "exam": found[0].to_dict() if found else None})
    elif found:
        print(found[0].line())
    else:
        print(f"{deck.key}: no exam date")
    return 0


def cmd_optimize(args: argparse.Namespace) -> int:
    from labdeck.srs import fsrs_deck, fsrs_fit
    from labdeck.srs.scheduler import SrsError

    sched = _scheduler(args)
    try:
        with sched.repo.read() as conn:
            decks = sched.repo.decks(conn, args.deck)
            histories = {d.key: fsrs_deck.deck_histories(conn, d.id) for d in decks}
    except SrsError as exc:
        return _fail(str(exc))
    reports: dict[str, object] = {}
    fitted_any = False
    for deck in decks:
        try:
            report = fsrs_fit.optimize(histories[deck.key])
        except fsrs_fit.NotEnoughReviews as exc:
            reports[deck.key] = {"error": str(exc)}
            if not args.json:
                print(f"{deck.key}: {exc}", file=sys.stderr)
            continue
        with sched.transaction() as conn:
            fsrs_deck.save_parameters(conn, deck.key, report.parameters)
        fitted_any = True
        reports[deck.key] = asdict(report)
        if not args.json:
            d, f = report.default, report.fitted
            print(f"{deck.key}: fitted on {d.reviews} reviews; parameters saved")
            print(f"  log-loss    default {d.log_loss:.4f}  fitted {f.log_loss:.4f}")
            print(f"  RMSE (bins) default {d.rmse_bins:.4f}  fitted {f.rmse_bins:.4f}")
    if args.json:
        _print_json(reports)
    return 0 if fitted_any else 1


def cmd_retention(args: argparse.Namespace) -> int:
    from labdeck.config import MAX_RETENTION, MIN_RETENTION, load_settings, save_settings

    settings = load_settings()
    if args.value is None:
        print(f"desired retention {settings.desired_retention:g}")
        return 0
    try:
        value = float(args.value)
    except ValueError:
        value = float("nan")
    if not MIN_RETENTION <= value <= MAX_RETENTION:
        return _fail(f"desired retention must be between {MIN_RETENTION} and {MAX_RETENTION}")
    save_settings(replace(settings, desired_retention=value))
    print(f"desired retention {value:g} (FSRS decks; applies from the next answer)")
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    from labdeck.srs.scheduler import SrsError

    sched = _scheduler(args)
    stats = sched.stats
    try:
        decks = stats.retrievability(args.deck)
    except SrsError as exc:
        return _fail(str(exc))
    today, month = stats.today(), stats.retention(30)
    bands, forecast = stats.retention_by_interval(), sched.forecast(30)
    minutes = stats.time_per_day(30)
    if args.json:
        _print_json(
            {
                "today": today.to_dict(),
                "retention_30d": {"reviews": month.reviews, "passed": month.passed},
                "retention_by_interval": [b.to_dict() for b in bands],
                "forecast_30d": [{"day": d.isoformat(), "due": n} for d, n in forecast],
                "minutes_per_day_30d": [{"day": d.isoformat(), "minutes": m} for d, m in minutes],
                "retrievability": [d.to_dict() for d in decks],
            }
        )
        return 0
    print(f"today: {today.answered} answered, streak {today.streak}")
    rate = f"{month.rate:.0%}" if month.rate is not None else "-"
    print(f"retention (30 days): {rate} of {month.reviews} scheduled reviews")
    print(
        "true retention by interval (all time): "
        + " · ".join(
            f"{b.band} {b.rate:.0%} of {b.reviews}" if b.rate is not None else f"{b.band} -"
            for b in bands
        )
    )
    week = sum(n for _, n in forecast[:7])
    print(
        f"forecast: {forecast[0][1]} due today, {week} in 7 days, {sum(n for _, n in forecast)} in 30"
    )
    print(f"time: {minutes[-1][1]:.1f} min today, {sum(m for _, m in minutes):.1f} min in 30 days")
    for d in decks:
        mean = f"{d.mean:.1%}" if d.mean is not None else "-"
        print(f"{d.deck} [{d.scheduler}]: predicted retrievability {mean} over {d.cards} cards")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("deck", help="per-deck settings")
    deck_sub = p.add_subparsers(dest="deck_command", required=True)
    s = deck_sub.add_parser(
        "scheduler", help="schedule a deck by sm2 or fsrs (states rebuilt from the review log)"
    )
    s.add_argument("deck", metavar="DECK", help="deck key or name")
    s.add_argument("scheduler", choices=("sm2", "fsrs"))
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_deck_scheduler)

    e = deck_sub.add_parser(
        "exam-date",
        help="show, set or clear a deck's exam date (reviews are prioritised for that day)",
    )
    e.add_argument("deck", metavar="DECK", help="deck key or name")
    e.add_argument("date", nargs="?", metavar="YYYY-MM-DD", help="the exam day")
    e.add_argument("--clear", action="store_true", help="remove the deck's exam date")
    e.add_argument("--json", action="store_true")
    e.set_defaults(func=cmd_exam_date)

    p = sub.add_parser("fsrs", help="FSRS parameters and desired retention")
    fsrs_sub = p.add_subparsers(dest="fsrs_command", required=True)
    o = fsrs_sub.add_parser("optimize", help="fit FSRS parameters to your review log")
    o.add_argument("--deck", help="deck key or name (default: every deck)")
    o.add_argument("--json", action="store_true")
    o.set_defaults(func=cmd_optimize)
    r = fsrs_sub.add_parser("retention", help="show or set the desired retention (0.7-0.99)")
    r.add_argument("value", nargs="?", metavar="VALUE")
    r.set_defaults(func=cmd_retention)

    p = sub.add_parser("stats", help="today, retention and predicted retrievability per deck")
    p.add_argument("--deck", help="deck key or name")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_stats)

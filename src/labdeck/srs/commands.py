"""``labdeck due | next | answer | check | undo | suspend | unsuspend | bury | unbury``.

Plumbing for scripts and editors: each command does exactly what the app does through
``labdeck.srs.scheduler.Scheduler`` and honours ``LABDECK_NOW`` (ISO date-time) as the clock.
Errors are one line on stderr and a non-zero exit (``SrsError`` is a ``ValueError``, which the
CLI reports without a traceback). This module is imported at start-up: keep it light.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any, Protocol

from labdeck.textfmt import padded

if TYPE_CHECKING:
    from labdeck.srs.scheduler import Counts, Scheduler


class CommandWorkspace(Protocol):
    """What these commands use of the workspace, which cli.py builds and passes in as
    ``args.workspace``: the workspace builds the scheduler, so this module may not import it."""

    def scheduler(self) -> Scheduler: ...


KIND_LABEL = {"review": "review", "redrill": "re-drill", "new": "new"}


def _print_json(data: object) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


def _scheduler(args: argparse.Namespace) -> Scheduler:
    workspace: CommandWorkspace = args.workspace
    return workspace.scheduler()


def _quality(raw: str) -> int:
    from labdeck.srs.scheduler import SrsError

    try:
        value = int(raw.strip())
    except ValueError:
        raise SrsError(f"quality must be an integer 0–5, got {raw!r}") from None
    if not 0 <= value <= 5:
        raise SrsError(f"quality must be an integer 0–5, got {value}")
    return value


def _checklist(raw: str | None) -> list[Any] | None:
    """``--checklist JSON``: the key-point ticks, as ``labdeck.grading.checklist.StoredTick``
    rows (the scheduler validates each field)."""
    from labdeck.srs.scheduler import SrsError

    if raw is None:
        return None
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise SrsError(f"--checklist: not valid JSON ({exc.msg}, column {exc.colno})") from None
    except ValueError as exc:  # e.g. an integer past Python's digit limit
        raise SrsError(f"--checklist: not valid JSON ({exc})") from None
    if not isinstance(value, list):
        raise SrsError('--checklist: expected a JSON list of {"point", "grader", "ticked"}')
    return value


# ---------------------------------------------------------------- handlers


def _counts_dict(c: Counts) -> dict[str, Any]:
    return {"new": c.new, "learning": c.learning, "due": c.due}


def cmd_due(args: argparse.Namespace) -> int:
    sched = _scheduler(args)
    total, rows = sched.overview(args.deck)
    day = sched.today()
    if args.json:
        decks: list[dict[str, Any]] = []
        for row in rows:
            if row.chapter is None:
                decks.append(
                    {"deck": row.deck, "name": row.title, **_counts_dict(row), "chapters": []}
                )
            else:
                decks[-1]["chapters"].append(
                    {"chapter": row.chapter, "title": row.title, **_counts_dict(row)}
                )
        exams = [p.to_dict() for p in sched.exam_projections(args.deck)]
        _print_json(
            {"day": day.isoformat(), "total": _counts_dict(total), "decks": decks, "exams": exams}
        )
        return 0
    hour = sched.settings.rollover_hour
    print(f"Study day {day.isoformat()} (rolls over at {hour:02d}:00)")
    width = 60
    print(f"{'':<{width}} {'new':>5} {'learn':>5} {'due':>5}")
    for row in rows:
        if row.chapter is None:
            label = f"{row.title} [{row.deck}]"
        else:
            label = f"  {row.chapter:<6} {row.title}"
        print(f"{padded(label, width)} {row.new:>5} {row.learning:>5} {row.due:>5}")
    if args.deck is None:
        print(f"{padded(total.title, width)} {total.new:>5} {total.learning:>5} {total.due:>5}")
    for projection in sched.exam_projections(args.deck):
        print(projection.line())
    return 0


def cmd_next(args: argparse.Namespace) -> int:
    sched = _scheduler(args)
    entry = sched.next_card(args.deck, args.chapter)
    if args.json:
        if entry is None:
            _print_json(None)
            return 0
        data = entry.to_dict()
        data["label"] = KIND_LABEL[entry.kind]
        data["intervals"] = {str(q): d for q, d in sched.intervals_preview(entry.card_id).items()}
        showing = _showing(sched, entry.card_id)
        if showing is not None:
            data["type"] = showing.kind
            data["options"] = list(showing.options)
        _print_json(data)
        return 0
    if entry is None:
        print("Nothing left for today.")
        return 0
    print(f"{entry.key}  [{KIND_LABEL[entry.kind]}]  {entry.deck} {entry.chapter}")
    showing = _showing(sched, entry.card_id)
    print("\n".join(showing.lines()) if showing is not None else entry.prompt)
    return 0


def _showing(sched: Scheduler, card_id: int | str):  # type: ignore[no-untyped-def]
    """How a drill card is shown now (None for an essay card)."""
    from labdeck.drills import DRILL_KINDS
    from labdeck.drills.present import show

    card = sched.card(card_id)
    if card.kind not in DRILL_KINDS or card.drill is None:
        return None
    return show(card.key, card.kind, card.prompt, card.drill, card.reviews)


def cmd_check(args: argparse.Namespace) -> int:
    """Grade a reply to a drill card exactly; with --record, answer it with that quality."""
    from labdeck.drills.present import explanation, grade_reply
    from labdeck.srs.scheduler import SrsError

    sched = _scheduler(args)
    showing = _showing(sched, args.key)
    if showing is None:
        raise SrsError(
            f"{args.key} is an essay card; grade it with `labdeck grade` or rate it with "
            "`labdeck answer`"
        )
    card = sched.card(args.key)
    assert card.drill is not None
    result = grade_reply(showing, card.drill, args.reply)
    why = explanation(card.kind, card.drill)
    outcome = sched.answer(card.key, result.quality, answer=args.reply) if args.record else None
    if args.json:
        data = {"key": card.key, "type": card.kind, **result.to_dict(), "why": why}
        if outcome is not None:
            data["recorded"] = outcome.to_dict()
        _print_json(data)
        return 0
    mark = {"exact": "right", "typo": "right (typo)", "wrong": "wrong", "blank": "no answer"}
    said = mark.get(result.verdict, "wrong")
    if result.verdict == "unread":
        said = f"not read as an answer (type {result.detail.get('expected_form')})"
    print(f"{card.key}: {said}; quality {result.quality}")
    print(f"answer: {result.expected}")
    if why:
        print(f"why: {why}")
    if outcome is not None:
        due = outcome.due.isoformat() if outcome.due else "-"
        print(f"recorded ({KIND_LABEL.get(outcome.mode, outcome.mode)}); due {due}")
    return 0


def cmd_answer(args: argparse.Namespace) -> int:
    quality = _quality(args.quality)
    checklist = _checklist(args.checklist)
    sched = _scheduler(args)
    outcome = sched.answer(args.key, quality, answer=args.text, mode=args.mode, checklist=checklist)
    if args.json:
        _print_json(outcome.to_dict())
    else:
        mode = KIND_LABEL.get(outcome.mode, outcome.mode)
        state = outcome.state
        due = outcome.due.isoformat() if outcome.due else "-"
        line = (
            f"{outcome.key}: q={outcome.quality} ({mode}); n={state.repetitions} "
            f"EF={state.ease} I={state.interval}d, due {due}"
        )
        if outcome.again_today:
            line += "; again today"
        print(line)
    if outcome.became_leech:
        print(
            f"labdeck: {outcome.key} is a leech ({outcome.lapses} lapses) and has been "
            "suspended; rewrite or split it, then `labdeck unsuspend` it",
            file=sys.stderr,
        )
    return 0


def cmd_undo(args: argparse.Namespace) -> int:
    sched = _scheduler(args)
    outcome = sched.undo()
    if outcome is None:
        print("labdeck: nothing to undo", file=sys.stderr)
        return 1
    if args.json:
        _print_json(outcome.to_dict())
        return 0
    if outcome.op != "answer":
        what = f"{outcome.cards} cards" if outcome.cards > 1 else outcome.key
        print(f"undid {outcome.op} of {what} (on {outcome.day.isoformat()})")
        return 0
    due = outcome.due.isoformat() if outcome.due else "new"
    mode = KIND_LABEL.get(outcome.mode or "", outcome.mode)
    print(
        f"undid {outcome.key}: q={outcome.quality} ({mode}"
        f" on {outcome.day.isoformat()}); restored n={outcome.state.repetitions} "
        f"EF={outcome.state.ease} I={outcome.state.interval}d, due {due}"
    )
    return 0


def cmd_suspend(args: argparse.Namespace) -> int:
    sched = _scheduler(args)
    sched.suspend(args.key, on=True)
    print(f"suspended {args.key}")
    return 0


def cmd_unsuspend(args: argparse.Namespace) -> int:
    sched = _scheduler(args)
    sched.suspend(args.key, on=False)
    print(f"unsuspended {args.key}")
    return 0


def cmd_bury(args: argparse.Namespace) -> int:
    sched = _scheduler(args)
    back = sched.bury(args.key)
    print(f"buried {args.key} until study day {back.isoformat()}")
    return 0


def cmd_unbury(args: argparse.Namespace) -> int:
    sched = _scheduler(args)
    sched.unbury(args.key)
    print(f"unburied {args.key}")
    return 0


# ---------------------------------------------------------------- parser


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("due", help="today's counts (new / learning / due) per deck and chapter")
    p.add_argument("--deck", help="deck key or name")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_due)

    p = sub.add_parser("next", help="the next card of today's queue")
    p.add_argument("--deck", help="deck key or name")
    p.add_argument("--chapter", help="chapter code, e.g. B2")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_next)

    p = sub.add_parser("answer", help="record an answer (quality 0-5) exactly as the app would")
    p.add_argument("key", metavar="KEY", help="card key")
    p.add_argument("quality", metavar="QUALITY", help="0-5 (SM-2 quality)")
    p.add_argument("--text", metavar="ANSWER", help="the typed answer, kept in the review log")
    p.add_argument(
        "--mode",
        choices=("review", "redrill", "exam"),
        help="force the mode (default: review, or re-drill when already reviewed today)",
    )
    p.add_argument(
        "--checklist",
        metavar="JSON",
        help='key-point ticks kept with the review: [{"point": P, "grader": '
        '"covered|missed|contradicted", "ticked": true|false}, ...]',
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_answer)

    p = sub.add_parser(
        "check", help="grade a reply to a drill card (cloze text, option letters, true/false)"
    )
    p.add_argument("key", metavar="KEY", help="drill card key")
    p.add_argument("reply", metavar="REPLY", help="the missing text, e.g. 'a c', or t / f")
    p.add_argument("--record", action="store_true", help="answer the card with that quality")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("undo", help="undo the last answer (repeatable)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_undo)

    for name, func, text in (
        ("suspend", cmd_suspend, "suspend a card (never shown until unsuspended)"),
        ("unsuspend", cmd_unsuspend, "lift a card's suspension"),
        ("bury", cmd_bury, "hide a card until tomorrow's study day"),
        ("unbury", cmd_unbury, "bring a buried card back today"),
    ):
        p = sub.add_parser(name, help=text)
        p.add_argument("key", metavar="KEY", help="card key")
        p.set_defaults(func=func)

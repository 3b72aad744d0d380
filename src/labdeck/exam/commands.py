"""``labdeck exam …``: compose, grade, list, report, override, apply, delete mock exams."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from labdeck.grading.grader import Grader
    from labdeck.store import Store


def _print_json(data: object) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


def _store(args: argparse.Namespace) -> Store:
    from labdeck.workspace import Workspace

    return Workspace.from_args(args).store


def load_grader(store: Store | None = None) -> Grader:
    """The grader configured in the settings, with ``store``'s embedding cache when given
    (built by the workspace, the one place that builds graders)."""
    from labdeck.exam import ExamError
    from labdeck.grading.embedder import EmbedderError
    from labdeck.workspace import Workspace

    workspace = Workspace(store=store)
    try:
        return workspace.grader(cache=store is not None)
    except EmbedderError as exc:
        raise ExamError(f"cannot grade: {exc}") from None


def _nonneg_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must be zero or more")
    return value


def _pos_int(text: str) -> int:
    value = _nonneg_int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _seconds(text: str) -> int:
    """``90``, ``90s``, ``2m``, ``1m30s``, ``1h``."""
    import re

    raw = text.strip().lower()
    if re.fullmatch(r"\d+", raw):
        return int(raw)
    m = re.fullmatch(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?", raw)
    if not raw or not m:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration (e.g. 120, 90s, 2m, 1h)")
    h, mi, s = (int(g) if g else 0 for g in m.groups())
    return h * 3600 + mi * 60 + s


# ---------------------------------------------------------------- handlers


def _card_types(raw: str) -> list[str]:
    from labdeck.drills import KINDS

    wanted = [t.strip() for t in raw.split(",") if t.strip()]
    if wanted == ["all"]:
        return list(KINDS)
    unknown = [t for t in wanted if t not in KINDS]
    if unknown or not wanted:
        raise argparse.ArgumentTypeError(
            f"unknown card type {unknown[0] if unknown else raw!r} (known: {', '.join(KINDS)}, all)"
        )
    return wanted


def cmd_new(args: argparse.Namespace) -> int:
    from labdeck.exam.compose import ExamSpec, create_exam, parse_chapter_list
    from labdeck.exam.session import load_questions

    spec = ExamSpec(
        decks=list(args.deck or []),
        chapters=parse_chapter_list(args.chapters),
        n=args.n,
        seed=args.seed,
        time_per_question_s=args.time_per_question,
        total_time_s=args.total_time,
        favour_weak=args.favour_weak,
        include_self_graded=args.include_self_graded,
        kinds=args.types,
    )
    store = _store(args)
    composed = create_exam(store, spec)
    _exam, questions = load_questions(store, composed.exam_id)
    if args.json:
        _print_json(
            {
                **composed.to_dict(),
                "questions": [
                    {
                        "position": q.position,
                        "key": q.key,
                        "chapter": q.chapter,
                        "prompt": q.prompt,
                        "prompt_zh": q.prompt_zh,
                        "self_graded": q.self_graded,
                    }
                    for q in questions
                ],
            }
        )
        return 0
    from labdeck.exam.report import fmt_duration

    limit = fmt_duration(composed.time_limit_s) if composed.time_limit_s else "untimed"
    print(
        f"Exam {composed.exam_id} · {len(questions)} questions · time {limit} · "
        f"seed {composed.seed} · {composed.scope_label}"
    )
    if len(questions) < composed.requested:
        print(f"(only {composed.available} cards available in this scope)")
    print(
        "Sit it in the app (Mock exam), or write one JSON line per question "
        '({"key": …, "answer": …}) and run:\n'
        f"  labdeck exam grade --exam {composed.exam_id} --answers FILE.jsonl\n"
    )
    for q in questions:
        flag = "  (self-graded)" if q.self_graded else ""
        print(f"{q.position:>3}. [{q.chapter}] {q.key}{flag}")
        for line in q.prompt.strip().splitlines():
            print(f"     {line}")
    return 0


def cmd_grade(args: argparse.Namespace) -> int:
    from labdeck.exam.grade import grade_exam, read_answers_jsonl, record_external_sitting

    path = Path(args.answers)
    answers = read_answers_jsonl(path)  # fails before touching the database
    store = _store(args)
    grader = load_grader(store)
    exam_id = record_external_sitting(store, answers, path=path, exam_id=args.exam)
    report = grade_exam(store, exam_id, grader)
    _emit_report(report, args)
    return 0


def _emit_report(report: Any, args: argparse.Namespace) -> None:
    if getattr(args, "markdown", None):
        target = Path(args.markdown)
        try:
            target.write_text(report.to_markdown(), encoding="utf-8")
        except OSError as exc:
            raise ValueError(f"{target}: cannot write: {exc.strerror}") from None
        if not args.json:
            print(f"wrote {target}")
    if args.json:
        _print_json(report.to_dict())
    elif not getattr(args, "markdown", None):
        print(report.to_text(references=getattr(args, "references", False)))


def cmd_list(args: argparse.Namespace) -> int:
    from labdeck.exam.history import list_exams
    from labdeck.exam.report import fmt_duration, fmt_score

    exams = list_exams(_store(args))
    if args.json:
        _print_json([e.to_dict() for e in exams])
        return 0
    if not exams:
        print("No exams yet. Compose one with `labdeck exam new`.")
        return 0
    for e in exams:
        applied = "  applied" if e.applied else ""
        print(
            f"{e.exam_id:>4}  {e.created_at.astimezone():%Y-%m-%d %H:%M}  {e.status:<9} "
            f"{fmt_score(e.score):>4}  {e.questions:>3} q  {fmt_duration(e.elapsed_s):>7}  "
            f"{e.scope}{applied}"
        )
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from labdeck.exam import ExamError
    from labdeck.exam.grade import grade_exam
    from labdeck.exam.report import build_report

    store = _store(args)
    report = build_report(store, args.exam_id)
    if report.status == "sitting":
        raise ExamError(
            f"exam {args.exam_id} has not been submitted yet (sit it in the app, or "
            f"`labdeck exam grade --exam {args.exam_id} --answers FILE.jsonl`)"
        )
    if report.status == "submitted":  # e.g. the app closed while grading
        report = grade_exam(store, args.exam_id, load_grader(store))
    _emit_report(report, args)
    return 0


def _quality(text: str) -> int | None:
    from labdeck.exam import ExamError

    if text.strip().lower() in ("-", "none", "clear", "auto"):
        return None
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= 5:
        raise ExamError(f"quality must be 0–5 (or '-' to clear), got {text!r}")
    return value


def cmd_override(args: argparse.Namespace) -> int:
    from labdeck.exam.grade import override
    from labdeck.exam.report import fmt_score

    quality = _quality(args.quality)
    report = override(_store(args), args.exam_id, args.position, quality)
    if args.json:
        _print_json(report.to_dict())
        return 0
    q = next(q for q in report.questions if q.position == args.position)
    own = "cleared (grader's quality)" if quality is None else f"set to {quality}"
    print(f"exam {report.exam_id} question {q.position} ({q.key}): quality {own}")
    print(f"total score now {fmt_score(report.score)}")
    return 0


def cmd_apply(args: argparse.Namespace) -> int:
    from labdeck.exam.grade import apply_to_schedule

    result = apply_to_schedule(_store(args), args.exam_id)
    if args.json:
        _print_json(result.to_dict())
    else:
        print(result.summary())
    return 0


def cmd_delete(args: argparse.Namespace) -> int:
    from labdeck.exam.history import delete_exam

    delete_exam(_store(args), args.exam_id)
    print(f"deleted exam {args.exam_id}")
    return 0


# ---------------------------------------------------------------- parser


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("exam", help="mock exams: compose, grade, report, history")
    sub = p.add_subparsers(dest="exam_command", metavar="ACTION", required=True)

    new = sub.add_parser("new", help="compose an exam and print its questions")
    new.add_argument("--deck", action="append", metavar="DECK", help="deck key (repeatable)")
    new.add_argument("--chapters", metavar="CODES", help="e.g. B1,B2 or B1-B14")
    new.add_argument("-n", "--questions", dest="n", type=_pos_int, default=10)
    new.add_argument("--seed", type=_nonneg_int, default=None)
    timing = new.add_mutually_exclusive_group()
    timing.add_argument(
        "--time-per-question",
        type=_seconds,
        default=None,
        metavar="S",
        help="seconds per question (default 120; 0 = untimed)",
    )
    timing.add_argument("--total-time", type=_seconds, default=None, metavar="S")
    new.add_argument(
        "--favour-weak",
        "--favor-weak",
        dest="favour_weak",
        action="store_true",
        help="prefer cards never answered, with low E-Factor or recent lapses",
    )
    new.add_argument(
        "--include-self-graded",
        action="store_true",
        help="include cards without a reference answer (you grade those yourself)",
    )
    new.add_argument(
        "--types",
        type=_card_types,
        default=["essay"],
        metavar="TYPES",
        help="card types to draw, e.g. essay,choice or all (default: essay)",
    )
    new.add_argument("--json", action="store_true")
    new.set_defaults(func=cmd_new)

    grade = sub.add_parser("grade", help="grade answers written elsewhere (JSON lines)")
    grade.add_argument(
        "--answers",
        required=True,
        metavar="FILE.jsonl",
        help='one line per question: {"key": CARD_KEY, "answer": TEXT, "time_s": N}',
    )
    grade.add_argument(
        "--exam",
        type=_pos_int,
        default=None,
        metavar="ID",
        help="fill this exam (from `exam new`) instead of creating one",
    )
    grade.add_argument("--json", action="store_true")
    grade.add_argument("--references", action="store_true", help="print reference answers")
    grade.set_defaults(func=cmd_grade)

    ls = sub.add_parser("list", help="past exams with date, scope, score and duration")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=cmd_list)

    rep = sub.add_parser("report", help="show (or export) an exam's report")
    rep.add_argument("exam_id", type=_pos_int, metavar="ID")
    rep.add_argument("--markdown", metavar="FILE", help="write the report as Markdown")
    rep.add_argument("--json", action="store_true")
    rep.add_argument("--references", action="store_true", help="print reference answers")
    rep.set_defaults(func=cmd_report)

    ov = sub.add_parser("override", help="set your own quality 0–5 for one question")
    ov.add_argument("exam_id", type=_pos_int, metavar="ID")
    ov.add_argument("position", type=_pos_int, metavar="POSITION")
    ov.add_argument("quality", metavar="QUALITY", help="0–5, or '-' to clear")
    ov.add_argument("--json", action="store_true")
    ov.set_defaults(func=cmd_override)

    ap = sub.add_parser("apply", help="record the exam's grades as SM-2 reviews (mode exam)")
    ap.add_argument("exam_id", type=_pos_int, metavar="ID")
    ap.add_argument("--json", action="store_true")
    ap.set_defaults(func=cmd_apply)

    de = sub.add_parser("delete", help="delete an exam (reviews it recorded are kept)")
    de.add_argument("exam_id", type=_pos_int, metavar="ID")
    de.set_defaults(func=cmd_delete)

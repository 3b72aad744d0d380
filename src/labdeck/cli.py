"""Command line: parse arguments and dispatch. Imports nothing heavy at module level."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from pathlib import Path

from labdeck import __version__

# Feature packages that add their own sub-commands via ``register(subparsers)``.
COMMAND_MODULES = (
    "labdeck.srs.commands",
    "labdeck.srs.fsrs_commands",
    "labdeck.grading.commands",
    "labdeck.demos.commands",
    "labdeck.exam.commands",
    "labdeck.export.commands",
    "labdeck.serve.commands",
)


def _print_json(data: object) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


def _store(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    """The command's store, from its workspace (opened, migrated, shipped deck synced)."""
    return args.workspace.store


# ---------------------------------------------------------------- commands


def cmd_import(args: argparse.Namespace) -> int:
    from labdeck.config import load_settings
    from labdeck.ingest.common import ImportError_
    from labdeck.ingest.sources import import_source, parse_source

    rollover = load_settings(args.home).rollover_hour
    parsed = []
    failures = 0
    for raw in args.paths:
        try:
            parsed.extend(parse_source(Path(raw), rollover))
        except ImportError_ as exc:
            print(f"labdeck: {exc}", file=sys.stderr)
            failures += 1
    if not parsed:
        return 1
    from labdeck.ingest.prompts import EnglishTerms
    from labdeck.workspace import Workspace

    workspace = Workspace.from_args(args)
    store = workspace.store
    # The grading model, loaded only if a bare Chinese heading sits in a chapter with English
    # text: it finds the English term that heading names.
    english = EnglishTerms(lambda: workspace.grader().embedder.encode)
    into = None
    if args.into is not None:
        from labdeck.ingest.load import check_deck

        if any(source.kind != "doc" for source in parsed):
            print(
                "labdeck: --into attaches outline / Q&A documents; deck folders, Anki and "
                "CSV files bring their own decks",
                file=sys.stderr,
            )
            return 2
        into = check_deck(store, args.into)  # an unknown deck: one line, nothing written
    reports = []
    for source in parsed:
        reports.extend(
            import_source(
                store,
                source,
                dry_run=args.dry_run,
                retire=args.retire,
                link=not args.standalone,
                into=into,
                english=english,
                replace_notes=args.replace_notes,
            )
        )
    if args.json:
        _print_json([r.to_dict() for r in reports])
    else:
        for report in reports:
            print(report.summary())
            if args.verbose or args.dry_run:
                for key in report.created:
                    print(f"  + {_preview_line(report.label(key))}")
                for key in report.updated:
                    print(f"  ~ {_preview_line(report.label(key))}")
                for key in dict.fromkeys(report.attached):
                    print(f"  ✎ {_preview_line(report.label(key))}")
            for line in report.mismatches:
                print(f"  ? no card in the deck for {line}: a new card of its own")
            for key in report.notes_kept:
                print(f"  = kept: {_preview_line(report.label(f'kept {key}'))}")
            for key in report.removed:
                mark = "retired" if key in report.retired else "gone from the document"
                print(f"  - {_preview_line(report.label(key))} ({mark})")
            if report.removed and not report.retired:
                print("  (run again with --retire to retire them; history is kept)")
    return 1 if failures else 0


PREVIEW_WIDTH = 110  # characters of a question shown per preview line


def _preview_line(text: str) -> str:
    """One preview line: the question on one line, cut with an ellipsis when long."""
    from labdeck.textfmt import one_line

    line = one_line(text)
    return line if len(line) <= PREVIEW_WIDTH else line[: PREVIEW_WIDTH - 1].rstrip() + "…"


def cmd_decks(args: argparse.Namespace) -> int:
    from labdeck.store.queries import list_decks
    from labdeck.textfmt import counted

    decks = list_decks(_store(args))
    if args.json:
        _print_json(
            [
                {
                    "key": d.key,
                    "name": d.name,
                    "cards": d.cards,
                    "by_kind": _sum_kinds(c.by_kind for c in d.chapters),
                    "chapters": [
                        {"code": c.code, "title": c.title, "cards": c.cards, "by_kind": c.by_kind}
                        for c in d.chapters
                    ],
                }
                for d in decks
            ]
        )
        return 0
    if not decks:
        print("No decks yet. Import one with `labdeck import FILE`.")
    for deck in decks:
        kinds = _kinds_text(_sum_kinds(c.by_kind for c in deck.chapters))
        print(
            f"{deck.name}  [{deck.key}]  {counted(len(deck.chapters), 'chapter')}, "
            f"{counted(deck.cards, 'card')}{kinds}"
        )
        if args.chapters:
            for chapter in deck.chapters:
                print(
                    f"  {chapter.code:<6} {chapter.title}  ({chapter.cards}"
                    f"{_kinds_text(chapter.by_kind, brackets=False)})"
                )
    return 0


def _sum_kinds(parts) -> dict[str, int]:  # type: ignore[no-untyped-def]
    total: dict[str, int] = {}
    for part in parts:
        for kind, n in part.items():
            total[kind] = total.get(kind, 0) + n
    return total


def _kinds_text(by_kind: dict[str, int], *, brackets: bool = True) -> str:
    """' (81 essay, 120 cloze, …)' when a deck has drill cards; '' for essays only."""
    if set(by_kind) <= {"essay"}:
        return ""
    from labdeck.store.queries import KIND_LABELS

    body = ", ".join(f"{by_kind[k]} {label}" for k, label in KIND_LABELS.items() if by_kind.get(k))
    return f" ({body})" if brackets else f": {body}"


def cmd_cards(args: argparse.Namespace) -> int:
    from labdeck.store.browse_query import TYPES
    from labdeck.store.queries import list_cards, search_cards

    kind = TYPES[args.type] if args.type else None
    cards = list_cards(_store(args), args.deck, args.chapter, kind=kind)
    if args.search:
        cards = search_cards(cards, args.search, limit=args.limit)
    if args.json:
        _print_json([c.to_dict() for c in cards])
        return 0
    for card in cards:
        flag = "" if card.answer else "  (no reference)"
        prompt = card.prompt.splitlines()[0] if card.prompt else ""
        print(f"{card.key}\t{card.chapter}\t{card.kind}\t{prompt[:90]}{flag}")
    if not cards:
        print("No cards match.", file=sys.stderr)
    return 0


def _confirm(question: str) -> bool:
    try:
        return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")
    except EOFError:
        return False


def cmd_db(args: argparse.Namespace) -> int:
    from labdeck.store import backups, db, open_store

    if args.db_command == "restore":
        from labdeck.config import db_path

        db_file = db_path(args.home)
        done = backups.restore(db_file, args.file, db.keep_setting(args.home))
        if done.saved:
            print(f"backup of the replaced state: {done.saved}")
        for path in done.moved_aside:
            print(f"damaged file kept as {path}")
        print(f"database {db_file} restored from {done.source}")
        return 0
    if args.db_command in ("current", "check"):
        store = open_store(args.home, migrate=False, verify=False)
    else:
        store = open_store(args.home, migrate=False)
    if args.db_command == "upgrade":
        saved = db.upgrade(store.path, store.engine, args.revision, store.keep_backups)
        print(f"database {store.path} at revision {store.revision()}")
        if saved:
            print(f"backup: {saved}")
    elif args.db_command == "downgrade":
        if db.resolves_to_base(args.revision, store.revision()) and not args.yes:
            warning = (
                f"downgrading to base drops every table in {store.path} (a backup is made first)"
            )
            if not sys.stdin.isatty():
                print(f"labdeck: {warning}; pass --yes to confirm", file=sys.stderr)
                return 1
            if not _confirm(f"{warning}. Continue?"):
                print("nothing changed")
                return 1
        saved = db.downgrade(store.path, store.engine, args.revision, store.keep_backups)
        print(f"database {store.path} at revision {store.revision() or 'base'}")
        print(f"the data before the downgrade is in {saved} (`labdeck db restore {saved}`)")
    elif args.db_command == "current":
        current = store.revision()
        head = db.head_revision()
        state = "(head)" if current == head else f"(head is {head})"
        print(f"{store.path}: {current or 'empty'} {state}")
    elif args.db_command == "backup":
        print(store.backup())
    elif args.db_command == "check":
        from labdeck.store.sizes import format_report, size_report

        store.check()
        print(f"{store.path}: ok")
        print("\n".join(format_report(size_report(store.path))))
    return 0


def cmd_tui(args: argparse.Namespace) -> int:
    from labdeck.tui.app import run_app

    return run_app(args.home)


# ---------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="labdeck",
        description="Keyboard-first study app: spaced repetition, graded answers, mock exams, "
        "runnable demos. Run without a command to open the app.",
    )
    parser.add_argument("--version", action="version", version=f"labdeck {__version__}")
    parser.add_argument(
        "--home", type=Path, default=None, help="directory for all state (env: LABDECK_HOME)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser(
        "import",
        help="import outline / Q&A documents, a content deck folder, Anki .apkg/.colpkg or CSV/TSV",
    )
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--dry-run", action="store_true", help="show what would change, write nothing")
    p.add_argument("--retire", action="store_true", help="retire cards gone from the document")
    target = p.add_mutually_exclusive_group()
    target.add_argument(
        "--standalone", action="store_true", help="never attach to the shipped deck"
    )
    target.add_argument(
        "--into",
        metavar="DECK",
        help="attach the document to this existing deck (key, name or alias) as your notes",
    )
    p.add_argument(
        "--replace-notes",
        action="store_true",
        help="let this document's notes replace notes a card has from another document "
        "(kept otherwise)",
    )
    p.add_argument(
        "-v", "--verbose", action="store_true", help="list the question of every new/updated card"
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("decks", help="list decks with chapter and card counts")
    p.add_argument("--json", action="store_true")
    p.add_argument("--chapters", action="store_true", help="list chapters too")
    p.set_defaults(func=cmd_decks)

    p = sub.add_parser("cards", help="list or fuzzy-search cards")
    p.add_argument("--deck")
    p.add_argument("--chapter")
    p.add_argument("--search", metavar="TEXT")
    p.add_argument(
        "--type",
        choices=("essay", "cloze", "choice", "tf", "truefalse"),
        help="only cards of one type (tf: true/false)",
    )
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_cards)

    p = sub.add_parser("db", help="database maintenance")
    dbsub = p.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    up = dbsub.add_parser("upgrade", help="migrate to the newest schema (backup first)")
    up.add_argument("revision", nargs="?", default="head")
    down = dbsub.add_parser("downgrade", help="migrate down to REVISION (backup first)")
    down.add_argument("revision")
    down.add_argument("--yes", action="store_true", help="confirm a downgrade that drops tables")
    dbsub.add_parser("current", help="show the schema revision")
    dbsub.add_parser("backup", help="make a verified backup next to the database")
    dbsub.add_parser(
        "check", help="verify every page of the database file; show rows and bytes per table"
    )
    rest = dbsub.add_parser(
        "restore", help="replace the database by a backup (default: the latest good one)"
    )
    rest.add_argument("file", nargs="?", type=Path, default=None, metavar="FILE")
    p.set_defaults(func=cmd_db)

    p = sub.add_parser("tui", help="open the app (the default)")
    p.set_defaults(func=cmd_tui)

    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.home is not None:
        os.environ["LABDECK_HOME"] = str(args.home)
    from labdeck.workspace import Workspace

    # The composition root for this command, built here and handed in: a feature's commands
    # module cannot import the workspace that builds its own package (docs/architecture.md).
    args.workspace = Workspace.from_args(args)  # opens nothing until first used
    func = getattr(args, "func", None) or cmd_tui
    try:
        return int(func(args) or 0)
    except KeyboardInterrupt:
        print("labdeck: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # the learner never sees a traceback
        return _report(exc)
    finally:
        _close_stores()


def _close_stores() -> None:
    """Checkpoint and close what the command opened (it may end in ``os._exit``)."""
    if "labdeck.store.db" in sys.modules:
        from labdeck.store.db import close_all

        close_all()


def _report(exc: Exception) -> int:
    """One clean line and an exit status for every error; never a traceback or SQL dump."""
    from labdeck.clock import ClockError
    from labdeck.config import SettingsError
    from labdeck.ingest.common import ImportError_
    from labdeck.store.errors import STATUS_INPUT, classify, describe, one_line

    if isinstance(exc, ImportError_ | SettingsError | ClockError | ValueError):
        print(f"labdeck: {one_line(str(exc))}", file=sys.stderr)
        return STATUS_INPUT
    problem = classify(exc, _db_path_or_none())
    if problem is not None:
        print(f"labdeck: {problem.message}", file=sys.stderr)
        return problem.status
    if os.environ.get("LABDECK_DEBUG"):
        raise exc
    print(
        f"labdeck: internal error: {describe(exc)} (set LABDECK_DEBUG=1 to see details)",
        file=sys.stderr,
    )
    return 70


def _db_path_or_none() -> Path | None:
    """The database file, for messages; None when even the home cannot be made."""
    from labdeck.config import db_path

    try:
        return db_path()
    except OSError:
        return None


def entry() -> None:  # pragma: no cover - the console script
    """Run ``main`` and leave at once: every write is already committed, and skipping the
    interpreter's teardown saves ~100 ms per command. Open stores are closed first, which
    checkpoints the WAL into ``labdeck.db`` (a copy of that file alone then holds everything)."""
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

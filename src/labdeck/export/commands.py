"""`labdeck export anki FILE.apkg` and `labdeck export csv FILE`."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def cmd_export(args: argparse.Namespace) -> int:
    from labdeck.export.rows import export_rows
    from labdeck.workspace import Workspace

    workspace = Workspace.from_args(args)
    rows = export_rows(workspace.store, args.deck)
    if args.export_command == "anki":
        from labdeck.export.anki import export_apkg

        result = export_apkg(
            rows, args.file, today=workspace.scheduler().today(), with_schedule=args.with_schedule
        )
        print(result.summary())
    else:
        from labdeck.export.csvfile import export_csv

        count = export_csv(rows, args.file)
        print(f"exported {count} notes ({len(rows)} cards) to {args.file}")
    return 0


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("export", help="export cards to Anki (.apkg) or CSV")
    sub = p.add_subparsers(dest="export_command", metavar="FORMAT", required=True)
    anki = sub.add_parser("anki", help="an Anki package (needs: pip install 'labdeck[anki]')")
    anki.add_argument("file", type=Path, metavar="FILE.apkg")
    anki.add_argument("--deck", metavar="D", help="one deck (key or name); default: all")
    anki.add_argument(
        "--with-schedule",
        action="store_true",
        help="carry intervals, ease, due dates, lapses and the review log over",
    )
    text = sub.add_parser("csv", help="a tab-separated file in Anki's text-import format")
    text.add_argument("file", type=Path, metavar="FILE")
    text.add_argument("--deck", metavar="D", help="one deck (key or name); default: all")
    p.set_defaults(func=cmd_export)

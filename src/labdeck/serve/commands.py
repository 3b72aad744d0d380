"""``labdeck serve``: run the app in the browser. This module is imported at start-up: keep it
light (textual-serve and aiohttp are imported only when the command runs)."""

from __future__ import annotations

import argparse
import os
import sys


def _port(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {raw!r}") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port must be 1-65535, not {value}")
    return value


def cmd_serve(args: argparse.Namespace) -> int:
    try:
        from labdeck.serve.server import LabdeckServer
    except ModuleNotFoundError as exc:
        print(
            f"labdeck: `labdeck serve` needs {exc.name}: pip install textual-serve",
            file=sys.stderr,
        )
        return 1
    from labdeck.serve.guard import Access

    # each session's stdout is textual-serve's pipe, not a terminal: open the app regardless
    os.environ["LABDECK_FORCE_TUI"] = "1"
    server = LabdeckServer(Access.for_host(args.host), args.port)
    try:
        server.serve()
    except OSError as exc:
        reason = exc.strerror or exc
        print(f"labdeck: cannot listen on {args.host}:{args.port}: {reason}", file=sys.stderr)
        return 1
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "serve",
        help="serve the app to a web browser (textual-serve)",
        description="Serve the app to a web browser: each browser tab runs its own labdeck on "
        "the same home. Bound to 127.0.0.1 (the default) only this machine can connect and no "
        "token is needed. Bound to any other address, a one-time token is printed in the URL "
        "and every request without it is refused.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=_port, default=8000, help="port to listen on (default 8000)")
    p.set_defaults(func=cmd_serve)

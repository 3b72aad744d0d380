"""The textual-serve server with labdeck's access rules in front and page URLs taken from
the request (so ``localhost`` and ``127.0.0.1`` both work, and a server bound to 0.0.0.0
gives each browser the address it used). Imported only by ``labdeck serve``."""

from __future__ import annotations

import asyncio
import shlex
import signal
import sys
from pathlib import Path
from typing import Any

import aiohttp_jinja2
from aiohttp import hdrs, web
from textual_serve.server import Server, to_int

from labdeck.serve.guard import COOKIE, Access, page_url

PAGE = Path(__file__).parent / "templates"  # textual-serve's page, minus the web font service


def session_command() -> str:
    """What each browser session runs: this interpreter's labdeck app (settings, home and
    clock travel in the environment)."""
    return shlex.join([sys.executable, "-m", "labdeck.cli", "tui"])


class LabdeckServer(Server):
    def __init__(self, access: Access, port: int, command: str | None = None) -> None:
        super().__init__(
            command or session_command(), host=access.bind_host, port=port, templates_path=PAGE
        )
        self.title = "labdeck"
        self.access = access

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        guard = self._guard

        @web.middleware
        async def access_guard(request: web.Request, handler: Any) -> web.StreamResponse:
            return await guard(request, handler)

        app.middlewares.append(access_guard)
        return app

    async def _guard(self, request: web.Request, handler: Any) -> web.StreamResponse:
        websocket = request.headers.get(hdrs.UPGRADE, "").lower() == "websocket"
        query_token = request.query.get("token")
        problem = self.access.refusal(
            host_header=request.host,
            origin=request.headers.get(hdrs.ORIGIN),
            websocket=websocket,
            query_token=query_token,
            cookie_token=request.cookies.get(COOKIE),
        )
        if problem is not None:
            raise web.HTTPForbidden(text=f"labdeck: {problem}\n")
        if self.access.token and query_token is not None and not websocket:
            # keep the key in a cookie and out of the address bar, history and Referer
            rest = {k: v for k, v in request.query.items() if k != "token"}
            found = web.HTTPFound(request.rel_url.with_query(rest))
            if self.access.token_ok(query_token):  # a stale URL keeps the good cookie
                found.set_cookie(COOKIE, query_token, httponly=True, samesite="Strict", path="/")
            raise found
        return await handler(request)

    @aiohttp_jinja2.template("app_index.html")
    async def handle_index(self, request: web.Request) -> dict[str, Any]:
        base = f"{request.scheme}://{request.host}"
        static = str(request.app.router["static"].url_for(filename="/")).rstrip("/") + "/"
        ws_scheme = "wss" if request.scheme == "https" else "ws"
        return {
            "font_size": to_int(request.query.get("fontsize", "16"), 16),
            "app_websocket_url": f"{ws_scheme}://{request.host}/ws",
            "config": {"static": {"url": base + static}},
            "application": {"name": self.title},
        }

    async def on_startup(self, app: web.Application) -> None:
        """Nothing: the URL is announced once the port is bound (``announce``)."""

    def announce(self) -> None:
        url = page_url(self.host, self.port, self.access.token)
        lines = [f"labdeck: serving the app at {url}"]
        if self.access.token:
            lines.append("labdeck: the token in that URL is the key; share it with no one else")
            if self.host in ("0.0.0.0", "::"):
                lines.append("labdeck: (every interface: put this machine's address in the URL)")
        lines.append("labdeck: press Ctrl+C to stop")
        print("\n".join(lines), flush=True)

    def serve(self, debug: bool = False) -> None:
        """textual-serve's ``serve`` on a fresh loop, announcing the URL after the bind."""
        self.debug = debug
        self.initialize_logging()
        loop = asyncio.new_event_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, self.request_exit)
        web.run_app(
            self._make_app(),
            host=self.host,
            port=self.port,
            handle_signals=False,
            loop=loop,
            print=lambda _message: self.announce(),
        )

"""The served aiohttp app applies the access rules: requests go through the real textual-serve
app object on an in-process test server (always bound to 127.0.0.1; a non-loopback binding is
simulated by the configured host, which is what decides the rules). An accepted websocket
gets a plain echo-less socket here instead of an app session; the browser test covers that."""

from __future__ import annotations

import shlex
import sys

import pytest

aiohttp = pytest.importorskip("aiohttp", reason="aiohttp (textual-serve) is not installed")
pytest.importorskip("textual_serve", reason="textual-serve is not installed")

from aiohttp import web  # noqa: E402
from aiohttp.test_utils import TestClient, TestServer  # noqa: E402

from labdeck.serve.guard import COOKIE, Access  # noqa: E402
from labdeck.serve.server import LabdeckServer, session_command  # noqa: E402

TOKEN = "test-token-0123456789abcdef"


class NoSessionServer(LabdeckServer):
    """The real app and guard; an accepted websocket is opened and closed, no app started."""

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        websocket = web.WebSocketResponse()
        await websocket.prepare(request)
        await websocket.close()
        return websocket


async def _client(bind_host: str, token: str | None) -> TestClient:
    server = NoSessionServer(Access(bind_host, token), port=8000)
    client = TestClient(TestServer(await server._make_app(), host="127.0.0.1"))
    await client.start_server()
    return client


async def _ws_status(client: TestClient, path: str = "/ws", **kwargs: object) -> int:
    try:
        ws = await client.ws_connect(path, **kwargs)
    except aiohttp.WSServerHandshakeError as exc:
        return exc.status
    await ws.close()
    return 101


async def test_remote_binding_refuses_requests_without_the_token() -> None:
    client = await _client("192.0.2.7", TOKEN)
    try:
        for path in ("/", "/?token=wrong", f"/?token={TOKEN[:-1]}", "/static/css/xterm.css"):
            response = await client.get(path)
            assert response.status == 403, path
            assert "token" in await response.text()
        assert await _ws_status(client) == 403
        assert await _ws_status(client, "/ws?token=wrong") == 403
    finally:
        await client.close()


async def test_remote_binding_with_the_token_sets_a_cookie_for_the_page() -> None:
    client = await _client("192.0.2.7", TOKEN)
    try:
        response = await client.get(f"/?token={TOKEN}&fontsize=20", allow_redirects=False)
        assert response.status == 302
        assert response.headers["Location"] == "/?fontsize=20"  # the token leaves the URL
        cookie = response.cookies[COOKIE]
        assert cookie.value == TOKEN
        assert cookie["httponly"] and cookie["samesite"] == "Strict"
        # the page, its script and its websocket carry only the cookie (the client's jar)
        page = await client.get("/?fontsize=20")
        assert page.status == 200
        url = f"ws://{client.host}:{client.port}/ws"
        assert f'data-session-websocket-url="{url}"' in await page.text()
        assert (await client.get("/static/css/xterm.css")).status == 200
        assert await _ws_status(client) == 101
        client.session.cookie_jar.clear()
        assert (await client.get("/static/css/xterm.css")).status == 403
        assert await _ws_status(client) == 403
    finally:
        await client.close()


async def test_a_wrong_token_in_the_url_does_not_replace_a_good_cookie() -> None:
    client = await _client("192.0.2.7", TOKEN)
    try:
        assert (await client.get(f"/?token={TOKEN}")).status == 200  # redirected, cookie kept
        response = await client.get("/?token=wrong", allow_redirects=False)
        assert response.status == 302
        assert COOKIE not in response.cookies
        assert (await client.get("/")).status == 200
    finally:
        await client.close()


async def test_loopback_binding_needs_no_token_but_a_loopback_host() -> None:
    client = await _client("127.0.0.1", None)
    try:
        response = await client.get("/")
        assert response.status == 200
        assert COOKIE not in response.cookies
        rebound = await client.get("/", headers={"Host": "evil.example:8000"})
        assert rebound.status == 403
        own = f"http://{client.host}:{client.port}"
        assert await _ws_status(client, headers={"Origin": own}) == 101
        assert await _ws_status(client, headers={"Origin": "http://evil.example"}) == 403
    finally:
        await client.close()


def test_sessions_run_this_interpreters_app() -> None:
    assert shlex.split(session_command()) == [sys.executable, "-m", "labdeck.cli", "tui"]


def test_the_announced_url_carries_the_token_only_off_loopback(
    capsys: pytest.CaptureFixture[str],
) -> None:
    LabdeckServer(Access("127.0.0.1", None), port=8123).announce()
    local = capsys.readouterr().out
    assert "http://127.0.0.1:8123/\n" in local and "token" not in local
    LabdeckServer(Access("0.0.0.0", TOKEN), port=8123).announce()
    remote = capsys.readouterr().out
    assert f"http://0.0.0.0:8123/?token={TOKEN}\n" in remote
    assert "this machine's address" in remote

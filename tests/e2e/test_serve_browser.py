"""End-to-end: ``labdeck serve`` in headless Chromium, driven over the DevTools protocol.

Starts the real server on a free loopback port (real SQLite home, shipped deck, fixed clock),
opens the page in Debian's ``chromium``, waits for the app's home screen, then presses Enter
(study), space (reveal) and 4 (rate) as key events in the page's terminal, and checks the
review log holds exactly one row with quality 4, and that the page asked nothing of any
server but this one (the page has no web font service). What the page's terminal receives is read
by a small hook on the page's WebSocket (xterm.js draws on a canvas, so the DOM has no text).
Skipped when chromium or textual-serve is missing.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or (
    "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
)
pytestmark = [
    pytest.mark.skipif(
        CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)"
    ),
    pytest.mark.slow,
]
aiohttp = pytest.importorskip("aiohttp", reason="aiohttp (textual-serve) is not installed")
pytest.importorskip("textual_serve", reason="textual-serve is not installed")

NOW = "2026-03-02T10:00:00"
BUDGET_S = 60.0  # every wait below shares this one deadline

# Collect what the terminal receives, decoded, in window.__screen.
WEBSOCKET_HOOK = """
(() => {
  const Native = window.WebSocket;
  const decoder = new TextDecoder();
  window.__screen = "";
  window.WebSocket = function (url, protocols) {
    const socket = new Native(url, protocols);
    socket.addEventListener("message", (event) => {
      if (typeof event.data !== "string") {
        window.__screen += decoder.decode(new Uint8Array(event.data), {stream: true});
      }
    });
    return socket;
  };
  window.WebSocket.prototype = Native.prototype;
})();
"""

KEYS = {
    "Enter": {"key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 13, "text": "\r"},
    "Space": {"key": " ", "code": "Space", "windowsVirtualKeyCode": 32, "text": " "},
    "4": {"key": "4", "code": "Digit4", "windowsVirtualKeyCode": 52, "text": "4"},
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stop(process: subprocess.Popen) -> None:
    """End a process group we started: TERM, then KILL after a short wait."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


class Deadline:
    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        left = self.end - time.monotonic()
        if left <= 0:
            raise AssertionError(f"the browser test ran past its {BUDGET_S:.0f} s budget")
        return left


class Page:
    """Just enough of the DevTools protocol: numbered calls; of the events, only the URLs
    the page requests are kept."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, deadline: Deadline) -> None:
        self.ws, self.deadline, self.next_id = ws, deadline, 0
        self.requested: list[str] = []

    async def call(self, method: str, **params: object) -> dict:
        self.next_id += 1
        await self.ws.send_json({"id": self.next_id, "method": method, "params": params})
        while True:
            message = await self.ws.receive(timeout=self.deadline.left())
            if message.type != aiohttp.WSMsgType.TEXT:
                raise AssertionError(f"DevTools connection ended: {message}")
            data = json.loads(message.data)
            if data.get("method") == "Network.requestWillBeSent":
                self.requested.append(data["params"]["request"]["url"])
            if data.get("id") == self.next_id:
                if "error" in data:
                    raise AssertionError(f"{method}: {data['error']}")
                return data.get("result", {})

    async def evaluate(self, expression: str) -> object:
        result = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")

    async def screen_length(self) -> int:
        return int(await self.evaluate("(window.__screen || '').length") or 0)

    async def wait_for(self, needle: str, after: int = 0) -> None:
        """Wait until the terminal has received ``needle`` past offset ``after``."""
        expression = f"(window.__screen || '').indexOf({json.dumps(needle)}, {after}) >= 0"
        while not await self.evaluate(expression):
            if self.deadline.left() < 0.2:
                tail = await self.evaluate("(window.__screen || '').slice(-2000)")
                raise AssertionError(f"{needle!r} never reached the page; last bytes: {tail!r}")
            await asyncio.sleep(0.1)

    async def press(self, name: str) -> None:
        key = KEYS[name]
        await self.call("Input.dispatchKeyEvent", type="keyDown", **key)
        fields = {k: v for k, v in key.items() if k != "text"}
        await self.call("Input.dispatchKeyEvent", type="keyUp", **fields)


async def _until_ok(session: aiohttp.ClientSession, url: str, deadline: Deadline) -> str:
    while True:
        with contextlib.suppress(aiohttp.ClientError, OSError):
            async with session.get(url) as response:
                if response.status == 200:
                    return await response.text()
        deadline.left()
        await asyncio.sleep(0.2)


async def _drive(
    app_url: str, cdp_port: int, db: Path, deadline: Deadline
) -> tuple[list[tuple], list[str]]:
    async with aiohttp.ClientSession() as http:
        await _until_ok(http, app_url + "static/css/xterm.css", deadline)
        targets = json.loads(
            await _until_ok(http, f"http://127.0.0.1:{cdp_port}/json/list", deadline)
        )
        page_target = next(t for t in targets if t.get("type") == "page")
        async with http.ws_connect(page_target["webSocketDebuggerUrl"], max_msg_size=0) as ws:
            page = Page(ws, deadline)
            await page.call("Page.enable")
            await page.call("Network.enable")
            await page.call("Page.addScriptToEvaluateOnNewDocument", source=WEBSOCKET_HOOK)
            await page.call("Page.navigate", url=app_url)
            await page.wait_for("All decks")
            await page.evaluate("document.querySelector('.xterm-helper-textarea').focus()")
            mark = await page.screen_length()
            await page.press("Enter")  # study the due cards
            await page.wait_for("ctrl+s grade", after=mark)
            mark = await page.screen_length()
            await page.press("Space")  # reveal the reference answer
            await page.wait_for("Rate yourself", after=mark)
            await page.press("4")
            while True:
                with sqlite3.connect(db) as conn:
                    rows = conn.execute(
                        "SELECT quality, mode, undone, ts FROM review_log ORDER BY id"
                    ).fetchall()
                if rows:
                    return rows, page.requested
                deadline.left()
                await asyncio.sleep(0.1)


def test_answer_a_card_in_the_browser(tmp_path: Path) -> None:
    home, profile = tmp_path / "home", tmp_path / "chromium"
    home.mkdir()
    port, cdp_port = _free_port(), _free_port()
    env = {**os.environ, "LABDECK_HOME": str(home), "LABDECK_NOW": NOW, "LANG": "C.UTF-8"}
    env.pop("LABDECK_NO_CONTENT", None)
    server_log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "labdeck.cli", "serve", "--port", str(port)],
        env=env, stdout=server_log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    browser = subprocess.Popen(
        [
            CHROMIUM, "--headless", f"--remote-debugging-port={cdp_port}",
            "--remote-allow-origins=*", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", f"--user-data-dir={profile}", "--window-size=1280,900",
            # no name resolves but loopback: nothing can leave the machine
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        rows, requested = asyncio.run(
            _drive(f"http://127.0.0.1:{port}/", cdp_port, home / "labdeck.db", Deadline(BUDGET_S))
        )
    except BaseException:
        server_log.flush()
        print((tmp_path / "serve.log").read_text(errors="replace")[-4000:])
        raise
    finally:
        _stop(browser)
        _stop(server)
        server_log.close()
    app_url = f"http://127.0.0.1:{port}/"
    assert requested and all(url.startswith(app_url) for url in requested), requested
    assert len(rows) == 1, rows
    quality, mode, undone, ts = rows[0]
    assert (quality, mode, undone) == (4, "review", 0)
    assert ts.startswith("2026-03-02"), ts  # the served app ran on the injected clock

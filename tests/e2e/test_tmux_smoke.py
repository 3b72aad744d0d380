"""End-to-end smoke test: the real ``labdeck`` in a detached tmux session (120x36).

Waits for the home screen, studies three cards by typing answers (English and Chinese) with
``send-keys -l``, grades each with ctrl+s, accepts with enter, quits, and checks that the
database holds three review_log rows. Skipped when tmux is not installed.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

TMUX = shutil.which("tmux")
pytestmark = pytest.mark.skipif(TMUX is None, reason="tmux is not installed")

ANSWERS = (
    "The encoder RNN reads the source and compresses it into a fixed context vector; the "
    "decoder RNN generates the output tokens one by one from that vector.",
    "编码器把输入序列压缩成一个固定长度的上下文向量，解码器根据这个向量逐个生成输出词。",
    "Attention lets the decoder look at every encoder state and take a weighted average, "
    "so the bottleneck of one fixed vector disappears.",
)


ESSAY = "ctrl+s grade"  # the key line of an essay card waiting for an answer
DRILL = "enter check"  # the key line of a drill card (cloze, choice, true/false)


class Tmux:
    def __init__(self, socket: str, session: str) -> None:
        self.socket, self.session = socket, session

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(
            [TMUX, "-u", "-L", self.socket, *args],
            check=check,
            capture_output=True,
            text=True,
            timeout=20,
        )

    def screen(self) -> str:
        result = self.run("capture-pane", "-p", "-t", self.session, check=False)
        return result.stdout

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", self.session, *keys)

    def type(self, text: str) -> None:
        self.run("send-keys", "-t", self.session, "-l", text)

    def alive(self) -> bool:
        return self.run("has-session", "-t", self.session, check=False).returncode == 0

    def wait_for(self, *needles: str, timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            for needle in needles:
                if needle in screen:
                    return needle
            time.sleep(0.1)
        raise AssertionError(f"none of {needles} on screen within {timeout} s:\n{screen}")


def _command() -> str:
    exe = shutil.which("labdeck")
    return exe if exe else f"{sys.executable} -m labdeck.cli"


def test_study_three_cards_in_tmux(tmp_path: Path) -> None:
    tmux = Tmux(f"labdeck-smoke-{os.getpid()}", "smoke")
    env = {
        "LABDECK_HOME": str(tmp_path),
        "TERM": "xterm-256color",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
    }
    exports = " ".join(f"{k}={v!r}" for k, v in env.items())
    tmux.run(
        "new-session", "-d", "-s", tmux.session, "-x", "120", "-y", "36",
        f"env {exports} {_command()}; sleep 30",
    )  # fmt: skip
    tmux.run("set-option", "-t", tmux.session, "window-size", "manual", check=False)
    tmux.run("resize-window", "-t", tmux.session, "-x", "120", "-y", "36", check=False)
    try:
        size = tmux.run("display-message", "-p", "-t", tmux.session, "#{pane_width}x#{pane_height}")
        assert size.stdout.strip() == "120x36"
        tmux.wait_for("All decks", timeout=60)
        tmux.keys("Enter")
        for answer in ANSWERS:
            # an essay card is graded with ctrl+s; a drill card after it checks on enter
            card = tmux.wait_for(ESSAY, DRILL, timeout=30)
            tmux.type(answer)
            # send-keys delivers a burst faster than any typist: let the box show the whole
            # answer before ctrl+s (a priority binding) so the grade sees every character
            tail = answer[-4:] if answer.endswith("。") else answer.split()[-1]
            tmux.wait_for(tail, timeout=10)
            tmux.keys("C-s" if card == ESSAY else "Enter")
            found = tmux.wait_for(
                "suggested quality", "unsure", "Rate yourself", "Answer:", timeout=90
            )
            if found == "Rate yourself":  # no model: rate by hand
                tmux.keys("3")
            elif found == "unsure":  # nothing offered: enter keeps the grader's ticks, enter
                tmux.keys("Enter")
                time.sleep(0.3)
                tmux.keys("Enter")
            else:
                tmux.keys("Enter")
            time.sleep(0.3)
        tmux.wait_for(ESSAY, DRILL, "Nothing left", timeout=30)
        tmux.keys("C-q")
        deadline = time.monotonic() + 20
        while "All decks" in tmux.screen() or "Review" in tmux.screen():
            if time.monotonic() > deadline:
                raise AssertionError("labdeck did not quit:\n" + tmux.screen())
            time.sleep(0.1)
    finally:
        tmux.run("kill-server", check=False)
    with sqlite3.connect(tmp_path / "labdeck.db") as conn:
        rows = conn.execute("SELECT answer, undone FROM review_log ORDER BY id").fetchall()
    assert len(rows) == 3, rows
    assert [a for a, _ in rows] == list(ANSWERS)
    assert not any(undone for _, undone in rows)


def test_kill_mid_session_keeps_every_answer(tmp_path: Path) -> None:
    """kill -9 while the third answer is being typed: the two rated answers are in the log,
    and the app starts again on the same database."""
    tmux = Tmux(f"labdeck-kill-{os.getpid()}", "kill")
    env = {"LABDECK_HOME": str(tmp_path), "TERM": "xterm-256color", "LANG": "C.UTF-8"}
    exports = " ".join(f"{k}={v!r}" for k, v in env.items())
    command = f"env {exports} {_command()}"
    tmux.run(
        "new-session", "-d", "-s", tmux.session, "-x", "120", "-y", "36", f"{command}; sleep 30"
    )
    try:
        tmux.wait_for("All decks", timeout=60)
        tmux.keys("Enter")
        for quality in ("4", "2"):  # classic mode: space reveals, a digit rates
            tmux.wait_for(ESSAY, DRILL, timeout=30)
            tmux.keys("Space")
            tmux.wait_for("Rate yourself", timeout=30)
            tmux.keys(quality)
            time.sleep(0.5)
        tmux.wait_for(ESSAY, DRILL, timeout=30)
        tmux.type("half an answer that is never submit")
        tmux.wait_for("never submit", timeout=10)
        shell = tmux.run("display-message", "-p", "-t", tmux.session, "#{pane_pid}").stdout
        children = subprocess.run(
            ["pgrep", "-P", shell.strip()], capture_output=True, text=True, check=True
        ).stdout.split()
        for pid in children:
            os.kill(int(pid), 9)
        with sqlite3.connect(tmp_path / "labdeck.db") as conn:
            rows = conn.execute(
                "SELECT quality, mode, undone FROM review_log ORDER BY id"
            ).fetchall()
        assert rows == [(4, "review", 0), (2, "review", 0)]
        tmux.run("new-window", "-t", tmux.session, f"{command}; sleep 30")
        tmux.wait_for("answered 2", timeout=60)
    finally:
        tmux.run("kill-server", check=False)

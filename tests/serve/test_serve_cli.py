"""``labdeck serve`` on the command line: help, bad ports, a port already taken, lazy imports."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest


def _labdeck(*args: str, home: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "LABDECK_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "labdeck.cli", *args],
        capture_output=True, text=True, timeout=60, env=env,
    )  # fmt: skip


def test_help_says_loopback_needs_no_token(tmp_path: Path) -> None:
    result = _labdeck("serve", "--help", home=tmp_path)
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    assert "127.0.0.1" in text and "no token is needed" in text
    assert "--port" in text and "--host" in text


@pytest.mark.parametrize("port", ["0", "70000", "http"])
def test_bad_port_is_one_usage_error(tmp_path: Path, port: str) -> None:
    result = _labdeck("serve", "--port", port, home=tmp_path)
    assert result.returncode == 2
    assert "--port" in result.stderr and "Traceback" not in result.stderr


def test_port_in_use_is_one_clean_line(tmp_path: Path) -> None:
    pytest.importorskip("textual_serve", reason="textual-serve is not installed")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _labdeck("serve", "--port", str(port), home=tmp_path)
    assert result.returncode == 1
    assert f"labdeck: cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert "serving the app" not in result.stdout  # announced only once the port is bound


def test_the_parser_does_not_import_the_web_server() -> None:
    code = (
        "import sys; from labdeck.cli import build_parser; build_parser(); "
        "print(sorted(m for m in ('textual_serve', 'aiohttp') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]"

"""Issue 12, item 12: ``labdeck demo run ... &`` from a shell starts with SIGINT ignored (as
``nohup`` and non-interactive shells do for background jobs); ``kill -INT`` must still cancel
the demo, kill its process group and exit 130."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from demos.demo_helpers import child_env, children_of, read_until, wait_gone

pytestmark = pytest.mark.skipif(not Path("/proc/self").exists(), reason="needs Linux /proc")


@pytest.fixture
def home(home: Path, synced_db: Path) -> Path:
    """The home with the shipped deck loaded already (these tests are not about loading it:
    a second or more a command saved)."""
    shutil.copy(synced_db, home / "labdeck.db")
    return home


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def test_sigint_cancels_the_demo_even_when_inherited_as_ignored(home: Path) -> None:
    command = [sys.executable, "-m", "labdeck.cli", "--home", str(home)]
    proc = subprocess.Popen(
        [*command, "demo", "run", "ctc", "--device", "cpu", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=child_env(),
        start_new_session=True,
        preexec_fn=_ignore_sigint,
    )
    try:
        read_until(proc.stdout, lambda e: e.get("type") == "progress")
        (child,) = children_of(proc.pid)
        os.kill(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert "cancelled (Ctrl-C)" in err and "Traceback" not in err
    assert wait_gone(child), "the demo child survived the cancel"

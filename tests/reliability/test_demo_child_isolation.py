"""Issue 12, item 3: the demo child is isolated from the parent's working directory and
dies with its parent; runs whose process is gone are marked ``interrupted`` in the history.

Real subprocesses throughout: the CLI running a real demo from a folder holding a hostile
``torch.py``; the CLI killed with SIGKILL mid-run; a parent (the real runner) of a child that
stays silent killed with SIGKILL, the child started directly (the Linux death signal) and
through a forking wrapper (the portable stdin/parent watcher); the history read by the CLI.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from demos.demo_helpers import child_env, children_of, read_until, wait_gone
from labdeck.demos import history
from labdeck.demos.runner import DemoProcess

pytestmark = pytest.mark.skipif(not Path("/proc/self").exists(), reason="needs Linux /proc")

HOSTILE = """\
from pathlib import Path
Path({marker!r}).write_text("imported from the working directory")
raise SystemExit("hostile torch.py was imported")
"""


@pytest.fixture
def home(home: Path, synced_db: Path) -> Path:
    """The home with the shipped deck loaded already (these tests are not about loading it:
    a second or more a command saved)."""
    shutil.copy(synced_db, home / "labdeck.db")
    return home


def _cli(home: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "labdeck.cli", "--home", str(home), *args]


def _history(home: Path) -> list[dict]:
    done = subprocess.run(
        _cli(home, "demo", "history", "--json"),
        capture_output=True,
        text=True,
        timeout=60,
        env=child_env(),
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_a_torch_py_in_the_working_directory_is_never_imported(home: Path, tmp_path: Path) -> None:
    folder = tmp_path / "notes"
    folder.mkdir()
    marker = tmp_path / "hostile-ran"
    for name in ("torch.py", "numpy.py"):
        (folder / name).write_text(HOSTILE.format(marker=str(marker)))
    scratch = tmp_path / "tmp"  # where the child's private working directory is made
    scratch.mkdir()
    done = subprocess.run(
        _cli(home, "demo", "run", "attention", "--preset", "quick", "--device", "cpu", "--json"),
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=180,
        env=child_env(TMPDIR=str(scratch)),
        stdin=subprocess.DEVNULL,
    )
    assert not marker.exists(), "the child imported torch.py from the working directory"
    assert done.returncode == 0, done.stderr
    outcome = json.loads(done.stdout.splitlines()[-1])
    assert outcome["type"] == "outcome" and outcome["status"] == "ok"
    assert sorted(p.name for p in folder.iterdir()) == ["numpy.py", "torch.py"]  # nothing added
    assert list(scratch.glob("labdeck-demo-*")) == []  # its private working directory is gone


def test_kill_9_of_the_cli_kills_the_demo_and_the_row_becomes_interrupted(home: Path) -> None:
    parent = subprocess.Popen(
        _cli(home, "demo", "run", "ctc", "--device", "cpu", "--json"),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        text=True,
        env=child_env(),
        start_new_session=True,
    )
    try:
        read_until(parent.stdout, lambda e: e.get("type") == "progress")
        (child,) = children_of(parent.pid)
        (row,) = _history(home)
        assert row["status"] == "running" and row["pid"] == child  # a live run is left alone
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(timeout=30)
        assert wait_gone(child, limit=15), "the demo outlived its parent"
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
    (row,) = _history(home)
    assert row["status"] == "interrupted"
    assert f"process {child} is gone" in row["message"]
    table = subprocess.run(
        _cli(home, "demo", "history"), capture_output=True, text=True, timeout=60, env=child_env()
    ).stdout
    assert "interrupted" in table and f"process {child} is gone" in table


# A parent holding a demo child that stays silent (as a demo does inside a long training step):
# the child cannot learn of its parent's death from a broken stdout pipe, only from lifeline.
PARENT = """\
import json, sys
from labdeck.demos import history
from labdeck.demos.runner import DemoProcess
from labdeck.store import open_store

SILENT = (
    "import json, time\\n"
    "from labdeck.demos.lifeline import tie_to_parent\\n"
    "tie_to_parent()\\n"
    "print(json.dumps({'type': 'progress', 'step': 0, 'total': 1}), flush=True)\\n"
    "time.sleep(600)\\n"
)
command = [sys.executable, "-P", "-c", SILENT]
if sys.argv[2] == "wrapped":
    # A wrapper that forks (a shell running a command that is not its last one): the Linux
    # death signal then belongs to the wrapper, so only the child's watcher can notice.
    command = ["sh", "-c", '"$0" "$@"; exit $?', *command]
store = open_store(sys.argv[1])
proc = DemoProcess.from_command(command, demo_id="silent").start()
history.record_process_start(store, proc)
for event in proc.events():
    print(json.dumps({"type": "ready", "pid": proc.pid}), flush=True)
"""


@pytest.mark.parametrize("how", ["direct", "wrapped"])
def test_a_silent_demo_dies_with_its_parent(home: Path, tmp_path: Path, how: str) -> None:
    script = tmp_path / "parent.py"
    script.write_text(PARENT)
    parent = subprocess.Popen(
        [sys.executable, str(script), str(home), how],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        text=True,
        env=child_env(),
        start_new_session=True,
    )
    try:
        started = read_until(parent.stdout, lambda e: e.get("type") == "ready")["pid"]
        doomed = [started, *children_of(started)]  # the child, or the wrapper and the child
        assert len(doomed) == (2 if how == "wrapped" else 1)
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(timeout=30)
        assert all(wait_gone(pid, limit=15) for pid in doomed), "the demo outlived its parent"
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
    history_rows = _history(home)
    assert [r["status"] for r in history_rows] == ["interrupted"]
    assert f"process {started} is gone" in history_rows[0]["message"]


def test_only_rows_whose_demo_is_gone_are_marked(home: Path) -> None:
    from labdeck.store import open_store

    store = open_store(home)
    proc = DemoProcess("attention", preset="quick", device="cpu").start()
    try:
        live = history.record_process_start(store, proc)
        reused = history.record_start(store, "vae", {}, pid=os.getpid())  # pid now not a demo
        legacy = history.record_start(store, "ctc", {})  # written before pids were recorded
        assert history.mark_interrupted(store) == 2
        status = {r.id: r.status for r in history.list_runs(store)}
        assert status == {live: "running", reused: "interrupted", legacy: "interrupted"}
    finally:
        outcome = proc.wait()
    history.record_end(store, live, outcome)
    assert history.mark_interrupted(store) == 0
    assert {r.id: r.status for r in history.list_runs(store)}[live] == "ok"

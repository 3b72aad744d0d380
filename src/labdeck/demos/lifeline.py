"""Tie a demo child's life to its parent, and tell whether a recorded demo process still runs.

Child side (``tie_to_parent``, called first thing by ``labdeck.demos.run``): when the labdeck
process that started the demo dies — even by ``kill -9``, which runs no clean-up — the demo
must not keep the CPU busy with nobody watching. Two independent mechanisms:

* Linux: ``prctl(PR_SET_PDEATHSIG, SIGKILL)``; the kernel kills the child when the parent
  *thread* that started it exits (so ``DemoProcess.start()`` must be called from a thread that
  outlives the run — the CLI's main thread, the TUI's run worker). Setting it races with the
  parent dying first, so afterwards the parent pid is checked against the one the runner passed.
* Everywhere: a daemon thread watches the stdin pipe the runner holds open (EOF means every
  writer, i.e. the parent, is gone) and polls that the parent is still there; then it kills the
  child's whole process group, which also takes down anything the demo spawned.

Parent side (``demo_process_alive``): whether a pid recorded in the run history is still a demo
child, used to mark rows whose process is gone as interrupted.

Standard library only.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

PARENT_ENV = "LABDECK_DEMO_PARENT"  # the runner's pid, set in the child's environment
CHILD_MODULE = "labdeck.demos.run"  # what a demo child's command line contains
_PR_SET_PDEATHSIG = 1
_POLL_S = 0.5


# ----------------------------------------------------------------------------- child side


def tie_to_parent(environ: dict[str, str] | None = None) -> bool:
    """Arrange for this process to die with the runner named in ``LABDECK_DEMO_PARENT``.

    Returns False (doing nothing) when the variable is absent, e.g. the child was started by
    hand. Does not return when the parent is already gone."""
    tie = arm(environ)
    if tie is None:
        return False
    watch(*tie)
    return True


def arm(environ: dict[str, str] | None = None) -> tuple[int, int] | None:
    """The first half of ``tie_to_parent``: the death signal, and the check that the runner
    still lives. Returns (runner pid, parent pid at start) for ``watch``; None without the
    variable. A warm child (``run --warm``) arms at once and watches only after it has read
    its run's arguments from stdin, which the watcher would otherwise consume."""
    raw = (os.environ if environ is None else environ).get(PARENT_ENV, "")
    try:
        expected = int(raw)
    except ValueError:
        return None
    if expected <= 1:
        return None
    _set_pdeathsig()
    first = os.getppid()
    if first != expected and not _exists(expected):
        _die()  # the runner died before (or while) the death signal was armed
    return expected, first


def watch(expected: int, first: int) -> None:
    """The second half: a daemon thread that kills the child once the runner is gone."""
    thread = threading.Thread(
        target=_watch,
        args=(expected, first, _stdin_is_pipe()),
        name="labdeck-parent-watch",
        daemon=True,
    )
    thread.start()


def _set_pdeathsig() -> None:
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, owned by someone else
    return True


def _parent_alive(expected: int, first: int) -> bool:
    """Started by the runner itself: it is alive while it is still our parent (a dead parent
    re-parents us at once). Started through a wrapper that forked: the wrapper must still be
    our parent and the runner must still exist."""
    if first == expected:
        return os.getppid() == expected
    return os.getppid() == first and _exists(expected)


def _stdin_is_pipe() -> bool:
    try:
        return stat.S_ISFIFO(os.fstat(0).st_mode)
    except OSError:
        return False


def _watch(expected: int, first: int, watch_stdin: bool) -> None:
    while True:
        if watch_stdin:
            try:
                ready, _, _ = select.select([0], [], [], _POLL_S)
                if ready and not os.read(0, 4096):
                    _die()  # EOF: the runner closed its end or died
            except (OSError, ValueError):
                watch_stdin = False
        else:
            time.sleep(_POLL_S)
        if not _parent_alive(expected, first):
            _die()


def _die() -> None:
    """Kill this demo and everything it started (its own process group when it leads one)."""
    with contextlib.suppress(OSError):
        if os.getpgrp() == os.getpid():
            os.killpg(os.getpid(), signal.SIGKILL)
    os.kill(os.getpid(), signal.SIGKILL)


# ----------------------------------------------------------------------------- parent side


def demo_process_alive(pid: int) -> bool:
    """True when ``pid`` is a live process running a demo child (not a zombie, not a
    different program that reused the pid)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by someone else: look at its command line
    proc = Path("/proc") / str(pid)
    if proc.is_dir():
        try:
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
            cmdline = (
                (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
            )
        except (OSError, IndexError):
            return False
        return state not in ("Z", "X") and CHILD_MODULE in cmdline
    try:  # macOS and other systems without /proc
        out = subprocess.run(
            ["ps", "-o", "stat=,command=", "-p", str(pid)],
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return True  # cannot tell: do not mark a possibly running demo as interrupted
    return bool(out) and not out.startswith("Z") and CHILD_MODULE in out

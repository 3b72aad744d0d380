"""Parent side: start a demo child process, stream its events, and always end with an outcome.

    proc = DemoProcess("attention", {"d_model": 32}, timeout=60)
    for event in proc.events():      # dicts with a "type" (see events.py), as they arrive
        ...
    outcome = proc.outcome           # ok / failed / cancelled / timeout / crashed + message

The child is isolated from where the parent happens to run: it starts in a private, empty
working directory with ``python -P`` (``PYTHONSAFEPATH``), so neither the parent's current
directory nor an empty ``PYTHONPATH`` entry can shadow a module (a stray ``torch.py`` in the
folder the learner ran labdeck from is never imported); every other ``PYTHON*`` variable is
dropped and ``PYTHONPATH`` is rebuilt from the labdeck install in use plus the absolute entries
the parent had. ``-I`` is not used: it would also drop ``PYTHONPATH`` and the user site, which
an editable or ``--target`` install needs. The child dies with the parent, even on ``kill -9``
(``lifeline.py``): the pid of the parent goes in ``LABDECK_DEMO_PARENT`` and the child's stdin
is a pipe the parent holds open. Call ``start()`` (or iterate ``events()``) from a thread that
lives until the run ends: Linux ties the child to the thread that started it.

The child runs in its own session (``start_new_session=True``), so it is its own process group:
``cancel()`` and the timeout kill the whole group (the child and anything it spawned), and a
Ctrl-C in the terminal reaches only the parent, which decides what to do. Nothing that happens in
the child (an exception, ``kill -9``, a hang, garbage on stdout) raises here. ``cancel()`` may be
called from another thread (e.g. the UI thread while a Textual thread worker iterates events).

A run may start from a warm child instead (``prewarm``): the same command's interpreter, flags,
environment, private directory and session, started ahead and waiting with torch imported
(``run --warm``); ``start()`` hands it the run's arguments on stdin, so the first event comes
without the interpreter's and torch's start-up. Any difference in interpreter or environment
(threads, an ``env`` override) makes the run start cold. An unused warm child is reaped when
``discard_warm`` is called, after ``WARM_IDLE_S`` or at exit.

Standard library only: the TUI and CLI import this at start-up.
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import json
import os
import queue
import signal
import site
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labdeck.demos import lifeline, registry
from labdeck.demos.events import count_checks

OK, FAILED, CANCELLED, TIMEOUT, CRASHED = "ok", "failed", "cancelled", "timeout", "crashed"
STATUSES = (OK, FAILED, CANCELLED, TIMEOUT, CRASHED)

_EOF = object()
_LIVE: weakref.WeakSet[DemoProcess] = weakref.WeakSet()  # children to kill if we exit first
_SRC = Path(__file__).resolve().parents[2]  # the directory that holds the labdeck package
WARM_FLAG = "--warm"  # ``labdeck.demos.run``'s one argument for a warm child
WARM_IDLE_S = 600.0  # a warm child nobody used is reaped after this long


@dataclass
class Outcome:
    status: str  # one of STATUSES
    message: str
    returncode: int | None = None
    result: dict[str, Any] | None = None  # the child's final ``result`` event, if any
    seconds: float = 0.0
    stderr_tail: str = ""
    events: int = 0

    @property
    def ok(self) -> bool:
        return self.status == OK

    @property
    def metrics(self) -> dict[str, Any]:
        return dict((self.result or {}).get("metrics") or {})

    @property
    def checks(self) -> dict[str, Any]:
        return dict((self.result or {}).get("checks") or {})

    def checks_passed(self) -> tuple[int, int]:
        """(passed, passed + failed): a quality expectation a changed knob moved counts in
        neither (see ``events.settle``)."""
        passed, failed, _ = count_checks(self.checks)
        return passed, passed + failed

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "message": self.message,
            "returncode": self.returncode,
            "seconds": round(self.seconds, 3),
            "metrics": self.metrics,
            "checks": self.checks,
        }


def child_command(
    demo_id: str,
    params: Mapping[str, Any],
    device: str = "auto",
    seed: int = 0,
    threads: int = 1,
    preset: str | None = None,
    python: str | None = None,
) -> list[str]:
    cmd = [
        *_interpreter(python),
        demo_id,
        "--device",
        device,
        "--seed",
        str(seed),
        "--threads",
        str(threads),
    ]
    if preset:
        cmd += ["--preset", preset]
    for name, value in params.items():
        cmd += ["--" + name.replace("_", "-"), _arg(value)]
    return cmd


def _interpreter(python: str | None = None) -> list[str]:
    """How every demo child starts, cold or warm: the module, never the working directory
    (or the script's) first on ``sys.path``."""
    return [python or sys.executable, "-P", "-m", lifeline.CHILD_MODULE]


def _popen(command: Sequence[str], env: Mapping[str, str]) -> tuple[subprocess.Popen[str], str]:
    """Start a demo child (cold or warm) the one way: pipes, a private empty working directory,
    its own session. Returns (process, working directory); raises OSError."""
    import tempfile  # here, not at module level: the CLI and TUI import this at start-up

    workdir = tempfile.mkdtemp(prefix="labdeck-demo-")
    try:
        proc = subprocess.Popen(
            list(command),
            # stdin carries a warm child's run arguments, nothing else: its EOF tells the
            # child we are gone
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="replace",
            bufsize=1,
            env=dict(env),
            cwd=workdir,  # private and empty: nothing to import or overwrite
            start_new_session=True,  # own process group: killpg reaches every descendant
        )
    except OSError:
        _remove_dir(workdir)
        raise
    return proc, workdir


def _remove_dir(path: str | None) -> None:
    if path is not None:
        import shutil

        shutil.rmtree(path, ignore_errors=True)


def child_environment(base: Mapping[str, str], threads: int = 1) -> dict[str, str]:
    """The child's environment: ``base`` without any ``PYTHON*`` variable, then only what the
    child needs — unbuffered UTF-8 output, safe path, the labdeck install in use first on
    ``PYTHONPATH`` (followed by the parent's absolute entries; relative or empty ones would
    resolve against a directory we do not control), the parent's user-site choice, the run's
    thread count and the parent's pid for ``lifeline``."""
    env = {k: v for k, v in base.items() if not k.upper().startswith("PYTHON")}
    if "PYTHONHOME" in base:
        env["PYTHONHOME"] = base["PYTHONHOME"]  # where the interpreter's stdlib lives
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONSAFEPATH"] = "1"
    env["PYTHONIOENCODING"] = "utf-8"
    if not site.ENABLE_USER_SITE:
        env["PYTHONNOUSERSITE"] = "1"
    inherited = [p for p in base.get("PYTHONPATH", "").split(os.pathsep) if os.path.isabs(p)]
    path = [str(_SRC), *(p for p in inherited if p != str(_SRC))]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(path))
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env[var] = str(threads)
    env[lifeline.PARENT_ENV] = str(os.getpid())
    return env


def _arg(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


class DemoProcess:
    """One demo run in a child process. Validates parameters up front (raising
    ``UnknownDemo``/``InvalidParameter`` before anything starts); never raises afterwards."""

    def __init__(
        self,
        demo_id: str,
        params: Mapping[str, Any] | None = None,
        *,
        device: str = "auto",
        seed: int = 0,
        threads: int = 1,
        preset: str | None = None,
        timeout: float | None = None,
        python: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        demo = registry.get(demo_id)
        if device not in registry.DEVICES:
            raise registry.InvalidParameter(
                demo_id, "device", f"must be one of {', '.join(registry.DEVICES)}, got {device!r}"
            )
        if threads < 1:
            raise registry.InvalidParameter(demo_id, "threads", f"must be >= 1, got {threads}")
        self.demo_id = demo_id
        self.params = demo.resolve(params, preset)  # the full, validated parameter set
        self.device, self.seed, self.threads, self.preset = device, seed, threads, preset
        self.timeout = timeout
        # Send only what differs from the preset, so the child log reads like the command line.
        base = demo.resolve(None, preset)
        changed = {k: v for k, v in self.params.items() if base[k] != v}
        self.command = child_command(demo_id, changed, device, seed, threads, preset, python)
        self._env = dict(env) if env is not None else None
        self._init_state()

    @classmethod
    def from_command(
        cls, command: Sequence[str], *, timeout: float | None = None, demo_id: str = "custom"
    ) -> DemoProcess:
        """Run an arbitrary child speaking the same protocol (used by tests)."""
        self = cls.__new__(cls)
        self.demo_id, self.params, self.device = demo_id, {}, "cpu"
        self.seed, self.threads, self.preset = 0, 1, None
        self.timeout = timeout
        self.command = list(command)
        self._env = None
        self._init_state()
        return self

    def _init_state(self) -> None:
        self._proc: subprocess.Popen[str] | None = None
        self._queue: queue.Queue[Any] = queue.Queue()
        self._stderr: collections.deque[str] = collections.deque(maxlen=40)
        self._lock = threading.Lock()
        self._cancelled = False
        self._timed_out = False
        self._killed = False
        self._kill_time = 0.0
        self._lingered = False
        self._started = 0.0
        self._deadline: float | None = None
        self._result: dict[str, Any] | None = None
        self._error: str | None = None
        self._count = 0
        self._launch_error: str | None = None
        self._done = threading.Event()
        self._workdir: str | None = None
        self.warm = False  # started from a warm child (``prewarm``)
        self.outcome: Outcome | None = None

    # ------------------------------------------------------------------ lifecycle

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def running(self) -> bool:
        return self._proc is not None and not self._done.is_set()

    def start(self) -> DemoProcess:
        if self._proc is not None or self._launch_error is not None:
            return self
        env = child_environment(os.environ if self._env is None else self._env, self.threads)
        self._started = time.monotonic()
        if self.timeout is not None:
            self._deadline = self._started + self.timeout
        prefix = _interpreter(self.command[0])
        if self.command[: len(prefix)] == prefix:
            self._adopt(_take_warm(self.command[0], env))
        if self._proc is None:
            try:
                self._proc, self._workdir = _popen(self.command, env)
            except OSError as exc:
                self._launch_error = f"could not start the demo process: {exc}"
                self._queue.put(_EOF)
                return self
        _LIVE.add(self)
        threading.Thread(target=self._pump_stdout, daemon=True).start()
        threading.Thread(target=self._pump_stderr, daemon=True).start()
        return self

    def _adopt(self, warm: WarmChild | None) -> None:
        """Run in ``warm``'s process: send it this run's arguments (its command line's tail)."""
        if warm is None or warm.proc is None:
            return
        try:
            assert warm.proc.stdin is not None
            warm.proc.stdin.write(json.dumps(self.command[len(_interpreter()) :]) + "\n")
            warm.proc.stdin.flush()
        except (OSError, ValueError):  # it died meanwhile: reap it, start cold
            warm.reap()
            return
        self._proc, self._workdir, self.warm = warm.proc, warm.workdir, True

    def _pump_stdout(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        try:
            for line in self._proc.stdout:
                self._queue.put(line)
        except (OSError, ValueError):
            pass
        finally:
            self._queue.put(_EOF)

    def _pump_stderr(self) -> None:
        assert self._proc is not None and self._proc.stderr is not None
        try:
            for line in self._proc.stderr:
                self._stderr.append(line.rstrip("\n"))
        except (OSError, ValueError):
            pass

    def _kill_group(self) -> None:
        with self._lock:
            proc = self._proc
            if proc is None or self._killed:
                return
            self._killed = True
            self._kill_time = time.monotonic()
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)  # pgid == pid (new session)

    def cancel(self) -> None:
        """Stop the run: kill the child's whole process group. Safe from any thread."""
        if self._done.is_set():
            return
        self._cancelled = True
        self._kill_group()

    # ------------------------------------------------------------------ events

    def events(self) -> Generator[dict[str, Any], None, None]:
        """Parsed events as they arrive; non-JSON output comes through as ``text`` events
        with ``"raw": true``. When the iterator ends, ``self.outcome`` is set. Leaving the loop
        early (``break``, an exception, Ctrl-C) cancels the child."""
        if self._done.is_set():  # already consumed: nothing more will arrive
            return
        self.start()
        reached_end = False
        try:
            while True:
                item = self._next_line()
                if item is _EOF:
                    reached_end = True
                    break
                if item is None:
                    continue
                event = self._parse(item)
                if event is not None:
                    self._count += 1
                    yield event
        finally:
            if not reached_end:
                self.cancel()
            self._finish()

    def _next_line(self) -> Any:
        now = time.monotonic()
        if self._deadline is not None and not self._killed and now >= self._deadline:
            self._timed_out = True
            self._kill_group()
        if self._killed and now - self._kill_time > 5.0:
            return _EOF  # killed, yet something outside the group still holds the pipe open
        wait = 0.25
        if self._deadline is not None and not self._killed:
            wait = max(0.0, min(wait, self._deadline - now))
        try:
            return self._queue.get(timeout=wait)
        except queue.Empty:
            return None

    def _parse(self, line: str) -> dict[str, Any] | None:
        text = line.rstrip("\r\n")
        if not text.strip():
            return None
        try:
            event = json.loads(text)
        except ValueError:
            event = None
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            return {"type": "text", "text": text, "raw": True}
        if event["type"] == "result":
            self._result = event
        elif event["type"] == "error":
            self._error = str(event.get("message") or "the demo reported an error")
        return event

    def _finish(self) -> None:
        if self._done.is_set():
            return
        proc = self._proc
        rc: int | None = None
        if proc is not None:
            try:
                grace = 5.0
                if self._deadline is not None and not self._killed:
                    grace = max(0.1, min(grace, self._deadline - time.monotonic()))
                rc = proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                # The child closed its stdout but does not exit: kill it.
                if self._deadline is not None and time.monotonic() >= self._deadline:
                    self._timed_out = True
                else:
                    self._lingered = True
                self._kill_group()
                rc = proc.wait()
            except KeyboardInterrupt:
                self._cancelled = True
                self._kill_group()
                rc = proc.wait()
            for stream in (proc.stdin, proc.stdout, proc.stderr):
                if stream is not None:
                    with contextlib.suppress(OSError):
                        stream.close()
        self._remove_workdir()
        self.outcome = self._decide(rc)
        self._done.set()
        _LIVE.discard(self)

    def _remove_workdir(self) -> None:
        _remove_dir(self._workdir)
        self._workdir = None

    def _decide(self, rc: int | None) -> Outcome:
        seconds = time.monotonic() - self._started if self._started else 0.0
        tail = "\n".join(self._stderr)

        def outcome(status: str, message: str) -> Outcome:
            return Outcome(
                status,
                message,
                returncode=rc,
                result=self._result,
                seconds=seconds,
                stderr_tail=tail,
                events=self._count,
            )

        if self._launch_error is not None:
            return outcome(CRASHED, self._launch_error)
        if self._result is not None and (rc == 0 or (self._lingered and not self._cancelled)):
            passed, failed, changed = count_checks(self._result.get("checks") or {})
            msg = f"finished in {seconds:.1f} s; {passed}/{passed + failed} checks passed"
            if changed:
                msg += f"; {changed} expectation(s) changed by the parameters"
            if self._result.get("cached"):
                msg += "; trained model from the cache"
            return outcome(OK, msg)
        if self._cancelled:
            return outcome(
                CANCELLED,
                f"stopped after {seconds:.1f} s; the demo process group was killed",
            )
        if self._timed_out:
            return outcome(
                TIMEOUT,
                f"no result within {self.timeout:g} s; the demo process group was killed",
            )
        if self._error is not None:
            return outcome(FAILED, self._error)
        if self._lingered:
            return outcome(
                CRASHED,
                "the demo process closed its output without a result and "
                "did not exit; it was killed",
            )
        if rc is not None and rc < 0:
            try:
                name = signal.Signals(-rc).name
            except ValueError:
                name = f"signal {-rc}"
            why = f"the demo process was killed by {name} before it reported a result"
        else:
            why = f"the demo process exited with status {rc} without reporting a result"
        last = _last_meaningful(self._stderr)
        return outcome(CRASHED, why + (f" (last error output: {last})" if last else ""))

    # ------------------------------------------------------------------ conveniences

    def run(self, on_event: Callable[[dict[str, Any]], None] | None = None) -> Outcome:
        """Iterate to the end (calling ``on_event``) and return the outcome."""
        for event in self.events():
            if on_event is not None:
                on_event(event)
        assert self.outcome is not None
        return self.outcome

    def wait(self) -> Outcome:
        if self.outcome is None:
            for _ in self.events():
                pass
        assert self.outcome is not None
        return self.outcome

    def __enter__(self) -> DemoProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        if not self._done.is_set():
            self.cancel()
            self.wait()


def _last_meaningful(lines: Sequence[str]) -> str:
    for line in reversed(lines):
        if line.strip():
            return line.strip()[:300]
    return ""


# ---------------------------------------------------------------------- warm children


class WarmChild:
    """A demo child started before its run: ``python -P -m labdeck.demos.run --warm`` with the
    environment a cold child of the same settings gets, in its own private directory and
    session. It imports torch, then waits for one line: the run's arguments.

    A keeper thread starts it and lives as long as it does (Linux ties the child's death
    signal to the thread that started it, see ``lifeline``); unused, the keeper reaps it when
    it is discarded, when ``idle`` seconds pass or when it dies on its own."""

    def __init__(self, python: str, env: dict[str, str], idle: float = WARM_IDLE_S) -> None:
        self.python, self.env, self.idle = python, env, idle
        self.proc: subprocess.Popen[str] | None = None
        self.workdir: str | None = None
        self.error: str | None = None
        self._lock = threading.Lock()
        self._claimed = threading.Event()  # taken by a run, or discarded
        self._taken = False
        self._reaped = False
        self.thread = threading.Thread(target=self._keep, name="labdeck-demo-warm", daemon=True)

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def matches(self, python: str, env: Mapping[str, str]) -> bool:
        return self.python == python and self.env == dict(env)

    def waiting(self) -> bool:
        """Still free to take: not taken, not discarded, and not dead."""
        with self._lock:
            dead = self.proc is not None and self.proc.poll() is not None
            return not self._claimed.is_set() and not dead and self.error is None

    def _keep(self) -> None:
        try:
            proc, workdir = _popen([*_interpreter(self.python), WARM_FLAG], self.env)
        except OSError as exc:
            self.error = f"could not start a warm demo process: {exc}"
            return
        with self._lock:
            self.proc, self.workdir = proc, workdir
        deadline = time.monotonic() + self.idle
        while not self._claimed.wait(0.25):
            if proc.poll() is not None or time.monotonic() >= deadline:
                break
        if self._taken:
            proc.wait()  # the run owns it now; this thread must outlive it
        else:
            self.reap()

    def take(self) -> WarmChild | None:
        """This child for a run (None when it is no longer free)."""
        with self._lock:
            if self._claimed.is_set() or self.proc is None or self.proc.poll() is not None:
                return None
            self._taken = True
            self._claimed.set()
            return self

    def discard(self, wait: bool = True) -> None:
        """Let it go unused: killed and reaped now (``wait``), or by its keeper within a
        quarter second (never blocking the caller)."""
        with self._lock:
            if self._taken:
                return
            self._claimed.set()
        if wait:
            self.reap()

    def reap(self) -> None:
        """Kill its process group, wait for it (no zombie) and remove its directory. Before
        the keeper has started the process there is nothing yet: the keeper reaps it then."""
        with self._lock:
            self._claimed.set()
            if self._reaped or self.proc is None:
                return
            self._reaped = True
            proc, workdir = self.proc, self.workdir
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        _remove_dir(workdir)


_WARM_LOCK = threading.Lock()
_warm: WarmChild | None = None


def prewarm(
    *,
    threads: int = 1,
    python: str | None = None,
    env: Mapping[str, str] | None = None,
    idle: float = WARM_IDLE_S,
) -> WarmChild:
    """Have a warm child wait for the next run with these settings (the ones ``DemoProcess``
    gets), unless one already does. Returns at once: the keeper thread starts the process."""
    global _warm
    python = python or sys.executable
    wanted = child_environment(os.environ if env is None else env, threads)
    with _WARM_LOCK:
        if _warm is not None and _warm.matches(python, wanted) and _warm.waiting():
            return _warm
        old, _warm = _warm, WarmChild(python, wanted, idle)
        _warm.thread.start()
        fresh = _warm
    if old is not None:
        old.discard(wait=False)
    return fresh


def discard_warm(wait: bool = True) -> None:
    """Reap the waiting warm child, if any (the Demos screen closing, the app exiting)."""
    global _warm
    with _WARM_LOCK:
        old, _warm = _warm, None
    if old is not None:
        old.discard(wait)


def _take_warm(python: str, env: Mapping[str, str]) -> WarmChild | None:
    global _warm
    with _WARM_LOCK:
        warm = _warm
        if warm is None or not warm.matches(python, env):
            return None
        _warm = None  # taken, or no longer usable
    taken = warm.take()
    if taken is None:
        warm.discard(wait=False)
    return taken


@atexit.register
def _kill_orphans() -> None:
    """If the parent exits while demos still run (e.g. the app is closed), stop them."""
    discard_warm()
    for proc in list(_LIVE):
        proc.cancel()

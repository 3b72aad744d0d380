"""The parent side: whatever the child does, the parent reports it and kills its process group.

Most cases use tiny stand-in children (``python -c ...`` speaking the same protocol) so that
failure modes can be produced on demand; the real demo child is used for a mid-run kill -9,
an unavailable device and argument errors.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest
from demo_helpers import child_env, wait_gone

from labdeck.demos import runner
from labdeck.demos.registry import InvalidParameter, UnknownDemo
from labdeck.demos.runner import DemoProcess


def fake(code: str, timeout: float | None = 30) -> DemoProcess:
    return DemoProcess.from_command(
        [sys.executable, "-c", textwrap.dedent(code)], timeout=timeout, demo_id="fake"
    )


def test_events_stream_in_order_and_garbage_becomes_text() -> None:
    proc = fake(
        """
        import json, sys
        print(json.dumps({"type": "progress", "step": 1, "total": 2}), flush=True)
        print("not json at all", flush=True)
        print("[1, 2]", flush=True)
        print(json.dumps({"type": "metric", "name": "loss", "value": 0.5}), flush=True)
        print(json.dumps({"type": "result", "metrics": {"a": 1},
                          "checks": {"c": {"passed": True, "value": 1, "target": ">= 1"}},
                          "seconds": 0.1}), flush=True)
        """
    )
    events = list(proc.events())
    assert [e["type"] for e in events] == ["progress", "text", "text", "metric", "result"]
    assert events[1] == {"type": "text", "text": "not json at all", "raw": True}
    out = proc.outcome
    assert out is not None and out.status == runner.OK and out.ok
    assert out.metrics == {"a": 1} and out.checks_passed() == (1, 1)
    assert "1/1 checks passed" in out.message


def test_an_error_event_is_a_failure_with_its_message() -> None:
    out = fake(
        """
        import json, sys
        print(json.dumps({"type": "error", "message": "vae failed: RuntimeError: boom"}))
        sys.exit(1)
        """
    ).wait()
    assert out.status == runner.FAILED
    assert out.message == "vae failed: RuntimeError: boom"
    assert out.returncode == 1


def test_an_uncaught_exception_is_a_crash_quoting_stderr() -> None:
    out = fake("raise RuntimeError('the child blew up')").wait()
    assert out.status == runner.CRASHED
    assert "exited with status 1 without reporting a result" in out.message
    assert "RuntimeError: the child blew up" in out.message


def test_a_child_killed_by_a_signal_is_a_crash() -> None:
    out = fake(
        """
        import json, os, signal
        print(json.dumps({"type": "progress", "step": 1, "total": 10}), flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
        """
    ).wait()
    assert out.status == runner.CRASHED
    assert "killed by SIGKILL" in out.message
    assert out.returncode == -signal.SIGKILL
    assert out.events == 1


def test_a_hang_times_out_and_the_whole_group_dies() -> None:
    proc = fake(
        """
        import subprocess, sys, time
        grandchild = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        print('{"type": "text", "text": "%d"}' % grandchild.pid, flush=True)
        time.sleep(60)
        """,
        timeout=1.5,
    )
    start = time.monotonic()
    events = list(proc.events())
    elapsed = time.monotonic() - start
    out = proc.outcome
    assert out is not None and out.status == runner.TIMEOUT
    assert out.message.startswith("no result within 1.5 s")
    assert 1.4 < elapsed < 10
    grandchild = int(events[0]["text"])
    assert wait_gone(grandchild), "the grandchild survived the timeout"


def test_a_busy_child_that_floods_output_still_times_out() -> None:
    out = fake(
        """
        import json
        while True:
            print(json.dumps({"type": "metric", "name": "x", "value": 1}), flush=True)
        """,
        timeout=1.0,
    ).wait()
    assert out.status == runner.TIMEOUT


def test_cancel_from_another_thread() -> None:
    proc = fake(
        """
        import json, time
        for i in range(600):
            print(json.dumps({"type": "progress", "step": i, "total": 600}), flush=True)
            time.sleep(0.1)
        """,
        timeout=None,
    )
    seen: list[dict] = []

    def worker() -> None:  # like a Textual thread worker
        for event in proc.events():
            seen.append(event)

    thread = threading.Thread(target=worker)
    thread.start()
    while not seen:
        time.sleep(0.02)
    pid = proc.pid
    assert pid is not None
    proc.cancel()
    thread.join(10)
    assert not thread.is_alive()
    assert proc.outcome is not None and proc.outcome.status == runner.CANCELLED
    assert "process group was killed" in proc.outcome.message
    assert wait_gone(pid)


def test_leaving_the_loop_early_cancels_the_child() -> None:
    proc = fake(
        """
        import json, time
        while True:
            print(json.dumps({"type": "progress", "step": 1, "total": 2}), flush=True)
            time.sleep(0.05)
        """,
        timeout=None,
    )
    for _event in proc.events():
        break
    assert proc.outcome is not None and proc.outcome.status == runner.CANCELLED
    assert proc.pid is not None and wait_gone(proc.pid)


def test_a_missing_interpreter_is_reported_not_raised() -> None:
    out = DemoProcess.from_command(["/nonexistent/python", "-c", "pass"]).wait()
    assert out.status == runner.CRASHED
    assert "could not start the demo process" in out.message


def test_parameters_are_validated_before_anything_starts() -> None:
    with pytest.raises(InvalidParameter, match="'epochs'"):
        DemoProcess("vae", {"epochs": 0})
    with pytest.raises(UnknownDemo):
        DemoProcess("nope")
    with pytest.raises(InvalidParameter, match="'device'"):
        DemoProcess("vae", device="tpu")
    proc = DemoProcess("vae", {"epochs": "7"}, preset="quick", seed=3)
    assert proc.params["epochs"] == 7
    assert proc.command[1:] == [
        "-P", "-m", "labdeck.demos.run", "vae", "--device", "auto", "--seed", "3",
        "--threads", "1", "--preset", "quick", "--epochs", "7",
    ]  # fmt: skip


# ----------------------------------------------------------------------------- real child


def test_real_demo_killed_mid_run_is_reported_as_a_crash() -> None:
    proc = DemoProcess("ctc", preset="quick", device="cpu", timeout=120)
    for _event in proc.events():
        os.kill(proc.pid, signal.SIGKILL)  # as if the OOM killer struck, mid-run
    out = proc.outcome
    assert out is not None and out.status == runner.CRASHED
    assert "killed by SIGKILL before it reported a result" in out.message


def test_real_demo_on_an_unavailable_device_fails_cleanly() -> None:
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    out = DemoProcess("attention", device="cuda").wait()
    assert out.status == runner.FAILED
    assert out.returncode == 2
    assert "CUDA is not available" in out.message
    assert "Traceback" not in out.stderr_tail


def test_child_rejects_bad_arguments_with_one_error_event() -> None:
    for args, fragment in (
        (["vae", "--epochs", "abc"], "parameter 'epochs' must be an integer"),
        (["gan"], "unknown demo 'gan'"),
        (["vae", "--device", "tpu"], "invalid choice"),
    ):
        done = subprocess.run(
            [sys.executable, "-m", "labdeck.demos.run", *args],
            capture_output=True, text=True, env=child_env(), timeout=60,
        )  # fmt: skip
        assert done.returncode == 2
        lines = done.stdout.strip().splitlines()
        assert len(lines) == 1
        event = json.loads(lines[0])
        assert event["type"] == "error" and fragment in event["message"]

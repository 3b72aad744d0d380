"""Child entry point: ``python -m labdeck.demos.run ID [--<param> v]... [--device auto|cpu|cuda]
[--seed N] [--threads N] [--preset quick|full]``.

Streams JSON-line events (see ``events.py``) on stdout and ends with exactly one ``result``
(exit 0) or ``error`` (exit 2 for bad arguments or an unavailable device, 1 for a failure while
running). Tracebacks go to stderr, which the parent keeps for crash reports. Started by the
runner, the child dies with it (``lifeline.py``).
"""

from __future__ import annotations

import argparse
import importlib
import os
import random
import sys
import time
import traceback
from dataclasses import dataclass
from typing import Any, NoReturn

from labdeck.demos import registry
from labdeck.demos.events import Collector, Emitter, settle

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        raise UsageError(message or f"exit {status}")


@dataclass
class Context:
    """What a demo's ``run(ctx)`` gets: validated params, a torch device, the seed, an emitter."""

    demo_id: str
    params: dict[str, Any]
    device: Any  # torch.device
    seed: int
    emit: Emitter
    preset: str | None = None
    cached: bool | None = None  # set by a demo that trains: True when the model came from cache


def parse_args(argv: list[str]) -> tuple[registry.Demo, dict[str, Any], argparse.Namespace]:
    head = _Parser(add_help=False)
    head.add_argument("demo_id")
    first, _ = head.parse_known_args(argv)
    demo = registry.get(first.demo_id)

    p = _Parser(prog="python -m labdeck.demos.run", add_help=False)
    p.add_argument("demo_id")
    p.add_argument("--device", default="auto", choices=registry.DEVICES)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--preset", choices=registry.PRESETS, default=None)
    for prm in demo.params:
        names = {prm.flag, "--" + prm.name}
        flag: dict[str, Any] = (
            {"nargs": "?", "const": "true"} if prm.type is bool else {}
        )  # --no-scale alone
        p.add_argument(*sorted(names), dest=f"param_{prm.name}", default=None, metavar="V", **flag)
    ns = p.parse_args(argv)
    if ns.threads < 1:
        raise UsageError(f"--threads must be >= 1, got {ns.threads}")
    overrides = {
        prm.name: getattr(ns, f"param_{prm.name}")
        for prm in demo.params
        if getattr(ns, f"param_{prm.name}") is not None
    }
    params = demo.resolve(overrides, ns.preset)
    return demo, params, ns


class DeviceUnavailable(RuntimeError):
    pass


def pick_device(name: str) -> Any:
    """``auto`` -> CUDA when available else CPU; ``cuda`` without CUDA is a clear error."""
    import torch

    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise DeviceUnavailable(
            "device 'cuda' was requested but CUDA is not available on this machine "
            f"(torch {torch.__version__}, built {'with' if torch.backends.cuda.is_built() else 'without'}"
            " CUDA); use --device cpu or --device auto"
        )
    return torch.device(name)


def seed_everything(seed: int) -> None:
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def changed_knobs(
    demo: registry.Demo, params: dict[str, Any], preset: str | None
) -> dict[str, Any]:
    """Parameters that differ from the preset's values (where quality expectations hold)."""
    base = demo.resolve(None, preset)
    return {k: v for k, v in params.items() if base.get(k) != v}


def execute(
    demo: registry.Demo,
    params: dict[str, Any],
    emit: Emitter,
    device: str = "auto",
    seed: int = 0,
    threads: int = 1,
    preset: str | None = None,
) -> dict[str, Any]:
    """Run one demo in this process and return its result fields (metrics, checks, seconds).

    Raises DeviceUnavailable for an impossible device; any other exception is the demo's.
    """
    import torch

    torch.set_num_threads(threads)  # one thread by default: far faster under contention
    dev = pick_device(device)
    seed_everything(seed)
    module = importlib.import_module(demo.module)
    ctx = Context(demo.id, dict(params), dev, seed, emit, preset)
    t0 = time.perf_counter()
    metrics, checks = module.run(ctx)
    seconds = time.perf_counter() - t0
    checks = settle(checks, changed_knobs(demo, params, preset))
    out = {"metrics": metrics, "checks": checks, "seconds": seconds, "device": str(dev)}
    if ctx.cached is not None:
        out["cached"] = ctx.cached
    return out


def run_inprocess(
    demo_id: str,
    overrides: dict[str, Any] | None = None,
    preset: str | None = None,
    device: str = "cpu",
    seed: int = 0,
    threads: int = 1,
) -> tuple[Collector, dict[str, Any]]:
    """Convenience for tests and notebooks: validate, run here, collect the events."""
    import torch

    demo = registry.get(demo_id)
    params = demo.resolve(overrides, preset)
    col = Collector()
    before = torch.get_num_threads()
    try:
        result = execute(demo, params, col, device, seed, threads, preset)
    finally:
        torch.set_num_threads(before)  # do not leave the host process single-threaded
    col.result(**result)
    return col, result


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    emit = Emitter(stream=sys.stdout)
    try:
        demo, params, ns = parse_args(argv)
    except (registry.UnknownDemo, registry.InvalidParameter, UsageError) as exc:
        emit.error(str(exc))
        return EXIT_USAGE
    try:
        result = execute(demo, params, emit, ns.device, ns.seed, ns.threads, ns.preset)
    except DeviceUnavailable as exc:
        emit.error(str(exc))
        return EXIT_USAGE
    except Exception as exc:  # the demo failed: report it as an event, details on stderr
        traceback.print_exc(file=sys.stderr)
        emit.error(f"{demo.id} failed: {type(exc).__name__}: {exc}")
        return EXIT_FAILED
    emit.result(**result)
    return EXIT_OK


WARM = "--warm"  # the one argument of a warm child (see ``runner.prewarm``)


def wait_warm() -> list[str]:
    """A warm child: armed to die with the runner, it imports torch (most of a run's start-up)
    and then waits for its run's arguments, one JSON list on one stdin line (the same argv a
    cold child gets on its command line). EOF instead means the runner has gone or let the
    child go unused: it exits."""
    import json

    from labdeck.demos import lifeline

    tie = lifeline.arm()
    import numpy  # noqa: F401
    import torch  # noqa: F401

    line = sys.stdin.buffer.readline()
    if not line.strip():
        sys.exit(EXIT_OK)
    argv = json.loads(line)
    if tie is not None:
        lifeline.watch(*tie)  # from here on, as a cold child: stdin EOF or a gone runner kills
    return [str(a) for a in argv]


if __name__ == "__main__":
    from labdeck.demos.lifeline import tie_to_parent

    warm = sys.argv[1:] == [WARM]
    if not warm:
        tie_to_parent()  # die with the labdeck process that started us, even on its kill -9
    try:
        code = main(wait_warm() if warm else None)
        sys.stdout.flush()
    except BrokenPipeError:  # the parent went away; nothing left to tell
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        code = EXIT_FAILED
    sys.exit(code)

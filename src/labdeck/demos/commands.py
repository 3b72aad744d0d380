"""``labdeck demo list | run ID | history``. Imports nothing heavy at module level.

Exit status of ``demo run``: 0 the demo finished (see its checks), 1 it failed (its own error),
2 bad arguments (unknown demo, bad parameter, unavailable device), 3 the child crashed,
124 timeout, 130 cancelled (Ctrl-C).
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from collections.abc import Callable
from types import FrameType
from typing import TYPE_CHECKING, Any, Protocol

from labdeck.demos import registry
from labdeck.demos.events import count_checks

if TYPE_CHECKING:
    from labdeck.store import Store

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_CRASHED = 3
EXIT_TIMEOUT = 124
EXIT_CANCELLED = 130


class CommandWorkspace(Protocol):
    """What these commands use of the workspace, which cli.py builds and passes in as
    ``args.workspace``: the workspace checks cards' demos against the registry, so this module
    may not import it."""

    @property
    def store(self) -> Store: ...


def _param_index() -> dict[str, list[tuple[registry.Demo, registry.Param]]]:
    index: dict[str, list[tuple[registry.Demo, registry.Param]]] = {}
    for demo in registry.all_demos():
        for p in demo.params:
            index.setdefault(p.name, []).append((demo, p))
    return index


def register(subparsers: Any) -> None:
    ids = ", ".join(sorted(registry.DEMO_IDS))
    demo = subparsers.add_parser(
        "demo",
        help="list, run and review the runnable demos",
        description=f"Runnable demos ({ids}); each runs in its own process.",
    )
    sub = demo.add_subparsers(dest="demo_command", metavar="ACTION", required=True)

    p = sub.add_parser("list", help="the demos, what they teach and their parameters")
    p.add_argument("-v", "--verbose", action="store_true", help="explanations and parameters")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser(
        "run",
        help="run a demo and show its progress, plots and checks",
        description="Run a demo in a child process. Exit status: 0 finished, 1 failed, "
        "2 bad arguments or device, 3 crashed, 124 timeout, 130 cancelled.",
    )
    p.add_argument("demo_id", metavar="ID", help=f"one of: {ids}")
    p.add_argument("--device", choices=registry.DEVICES, default="auto")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads (default 1: two ran 4–13× slower on 2 cores)",
    )
    p.add_argument(
        "--preset",
        choices=registry.PRESETS,
        default="quick",
        help="quick: a short run (default); full: the parameter defaults",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=None,
        metavar="S",
        help="kill the demo after S seconds (default: 10x its estimated time, >= 120 s)",
    )
    p.add_argument("--card", metavar="KEY", default=None, help="card the run was started from")
    p.add_argument("--json", action="store_true", help="print the raw JSON-line events")
    params = p.add_argument_group("demo parameters (each applies to the demos named)")
    for name, owners in sorted(_param_index().items()):
        flags = sorted({"--" + name.replace("_", "-"), "--" + name})
        is_bool = all(prm.type is bool for _, prm in owners)
        flag = {"nargs": "?", "const": "true"} if is_bool else {}  # --no-scale alone means true
        desc = "; ".join(
            f"{d.id}: {prm.help} (default {prm.default}, {prm.describe_bounds()})"
            for d, prm in owners
        )
        params.add_argument(
            *flags,
            dest=f"param_{name}",
            default=None,
            metavar="V",
            help=desc.replace("%", "%%"),
            **flag,
        )
    p.set_defaults(func=cmd_run)

    p = sub.add_parser(
        "selftest",
        help="run every demo's quick preset; one line per demo (time, checks)",
        description="Run each demo's quick preset in its own child process on DEVICE and print "
        "one line per demo. Exit status 0 when every demo finished with all checks passed.",
    )
    p.add_argument("--device", choices=registry.DEVICES, default="auto")
    p.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads (default 1: two ran 4–13× slower on 2 cores)",
    )
    p.add_argument("--demo", metavar="ID", action="append", default=None, help="only these")
    p.set_defaults(func=cmd_selftest)

    p = sub.add_parser("history", help="past demo runs, newest first")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--demo", metavar="ID", default=None)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_history)


# ----------------------------------------------------------------------------- list


def cmd_list(args: argparse.Namespace) -> int:
    demos = registry.all_demos()
    if args.json:
        json.dump([d.to_dict() for d in demos], sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return 0
    from labdeck.demos.render import table

    if not args.verbose:
        rows = [
            [
                d.id,
                d.title,
                " ".join(d.topics),
                f"~{d.seconds['quick']:g} s / ~{d.seconds['full']:g} s",
            ]
            for d in demos
        ]
        print(table(None, ["id", "title", "outline", "quick / full"], rows, max_cell=70))
        print("\nRun one with `labdeck demo run ID [--preset quick]`; `-v` for details.")
        return 0
    for d in demos:
        print(f"{d.id} — {d.title}")
        print(textwrap.fill(d.explanation, width=92, initial_indent="  ", subsequent_indent="  "))
        print(f"  outline: {', '.join(d.topics)}   keywords: {', '.join(d.keywords)}")
        quick = ", ".join(f"{k}={v}" for k, v in d.presets["quick"].items()) or "(defaults)"
        print(
            f"  presets: quick {quick} (~{d.seconds['quick']:g} s); "
            f"full = defaults (~{d.seconds['full']:g} s)"
        )
        rows = [[p.flag, p.type.__name__, p.default, p.describe_bounds(), p.help] for p in d.params]
        print(
            textwrap.indent(
                table(None, ["parameter", "type", "default", "range", ""], rows, max_cell=60), "  "
            )
        )
        print()
    return 0


# ----------------------------------------------------------------------------- run


class _Terminated(Exception):
    pass


def _exit_code(outcome: Any) -> int:
    from labdeck.demos import runner

    if outcome.status == runner.OK:
        return EXIT_OK
    if outcome.status == runner.FAILED:
        return EXIT_USAGE if outcome.returncode == EXIT_USAGE else EXIT_FAILED
    if outcome.status == runner.TIMEOUT:
        return EXIT_TIMEOUT
    if outcome.status == runner.CANCELLED:
        return EXIT_CANCELLED
    return EXIT_CRASHED


def _open_store(args: argparse.Namespace) -> Store | None:
    """The run history store, or None (with a warning): a demo still runs without it."""
    try:
        workspace: CommandWorkspace = args.workspace
        return workspace.store
    except Exception as exc:
        print(
            f"labdeck: warning: run history unavailable ({exc}); the run is not recorded",
            file=sys.stderr,
        )
        return None


def cmd_run(args: argparse.Namespace) -> int:
    import signal

    from labdeck.demos import history
    from labdeck.demos.runner import DemoProcess

    try:
        demo = registry.get(args.demo_id)
        overrides: dict[str, Any] = {}
        for name in _param_index():
            value = getattr(args, f"param_{name}", None)
            if value is not None:
                demo.param(name)  # InvalidParameter if this demo has no such parameter
                overrides[name] = value
        timeout = (
            args.timeout if args.timeout is not None else registry.run_timeout(demo, args.preset)
        )
        if timeout <= 0:
            raise registry.InvalidParameter(demo.id, "timeout", f"must be > 0, got {timeout:g}")
        proc = DemoProcess(
            demo.id,
            overrides,
            device=args.device,
            seed=args.seed,
            threads=args.threads,
            preset=args.preset,
            timeout=timeout,
        )
    except (registry.UnknownDemo, registry.InvalidParameter) as exc:
        print(f"labdeck: {exc}", file=sys.stderr)
        return EXIT_USAGE

    store = _open_store(args)
    run_id = None

    renderer = None
    if not args.json:
        from labdeck.demos.render import Renderer

        renderer = Renderer()
        print(
            f"{demo.title}  [{demo.id}, preset {args.preset or 'full'}, device {args.device}, "
            f"seed {args.seed}]",
            flush=True,
        )

    def _terminate(signum: int, _frame: Any) -> None:
        raise _Terminated(signal.Signals(signum).name)

    # Our own handlers, whatever we inherited: a shell that starts `labdeck demo run ... &`
    # hands us SIGINT ignored, and then Ctrl-C / kill -INT would leave the demo running.
    previous: dict[signal.Signals, Callable[[int, FrameType | None], Any] | int | None] = {}
    handlers = {
        signal.SIGINT: signal.default_int_handler,
        signal.SIGTERM: _terminate,
        signal.SIGHUP: _terminate,
    }
    for sig, handler in handlers.items():
        try:
            previous[sig] = signal.signal(sig, handler)
        except ValueError:  # not in the main thread
            break

    interrupted = None
    internal: Exception | None = None
    events = proc.events()
    try:
        proc.start()
        if store is not None:
            try:  # after the start, so the row carries the child's pid
                run_id = history.record_process_start(store, proc, card_key=args.card)
            except Exception as exc:
                print(f"labdeck: warning: could not record the run ({exc})", file=sys.stderr)
                store = None
        for event in events:
            if args.json:
                sys.stdout.write(json.dumps(event, ensure_ascii=False) + "\n")
                sys.stdout.flush()
            else:
                assert renderer is not None
                renderer.event(event)
    except KeyboardInterrupt:
        interrupted = "Ctrl-C"
    except _Terminated as exc:
        interrupted = str(exc)
    except BrokenPipeError:
        interrupted = "closed output"
    except Exception as exc:  # a bug on our side: stop the child, record, then report it
        interrupted = "internal error"
        internal = exc
    finally:
        if interrupted is not None or proc.outcome is None:
            proc.cancel()
            events.close()
        for sig, old in previous.items():
            signal.signal(sig, old)
    outcome = proc.outcome or proc.wait()
    if renderer is not None:
        renderer.close()

    if store is not None and run_id is not None:
        try:
            history.record_end(store, run_id, outcome)
        except Exception as exc:
            print(f"labdeck: warning: could not record the outcome ({exc})", file=sys.stderr)

    if internal is not None:
        raise internal
    code = _exit_code(outcome)
    if args.json:
        final = {"type": "outcome", "demo_id": demo.id, "run_id": run_id, **outcome.to_dict()}
        try:
            sys.stdout.write(json.dumps(final, ensure_ascii=False) + "\n")
            sys.stdout.flush()
        except BrokenPipeError:
            pass
    if outcome.ok:
        passed, total = outcome.checks_passed()
        if not args.json:
            print(f"\n{demo.id}: {outcome.message}")
            _print_notice(demo, args.card, store)
        if passed < total:
            print(
                f"labdeck: {demo.id}: {total - passed} check(s) missed their target",
                file=sys.stderr,
            )
    elif interrupted == "Ctrl-C":
        print(
            f"\nlabdeck: demo {demo.id} cancelled (Ctrl-C); its process group was killed",
            file=sys.stderr,
        )
    else:
        print(f"labdeck: demo {demo.id} {outcome.status}: {outcome.message}", file=sys.stderr)
    return code


def _print_notice(demo: registry.Demo, card_key: str | None, store: Any) -> None:
    from labdeck.demos.notice import card_key_points, notice_lines

    try:
        points = card_key_points(store, card_key)
    except Exception:  # the notes still help without the card's text
        points = []
    import shutil
    import textwrap

    lines = notice_lines(demo, card_key, points)
    width = max(40, min(shutil.get_terminal_size((100, 24)).columns, 100))
    print("\n" + lines[0])
    for line in lines[1:]:  # each entry wrapped at the terminal's width, its lines indented
        print(textwrap.fill(line, width, initial_indent="  ", subsequent_indent="    "))


# ----------------------------------------------------------------------------- selftest


def cmd_selftest(args: argparse.Namespace) -> int:
    """Every registry demo's quick preset, one line each: status, time, device, checks and the
    loosest tolerance its exactness checks were held to on that device."""
    from labdeck.demos.events import exact_tolerance
    from labdeck.demos.runner import DemoProcess

    try:
        demos = [registry.get(d) for d in args.demo] if args.demo else registry.all_demos()
    except registry.UnknownDemo as exc:
        print(f"labdeck: {exc}", file=sys.stderr)
        return EXIT_USAGE
    worst = EXIT_OK
    for demo in demos:
        proc = DemoProcess(
            demo.id,
            {},
            device=args.device,
            threads=args.threads,
            preset="quick",
            timeout=registry.run_timeout(demo, "quick"),
        )
        try:
            outcome = proc.run()
        except KeyboardInterrupt:
            proc.cancel()
            print(f"{demo.id:<12} cancelled", flush=True)
            return EXIT_CANCELLED
        passed, total = outcome.checks_passed()
        device = str((outcome.result or {}).get("device") or args.device)
        status = (
            "ok"
            if outcome.ok and passed == total
            else (outcome.status if not outcome.ok else "FAILED")
        )
        est = demo.seconds["quick"]
        n_exact, tol = exact_tolerance(outcome.checks)
        line = (
            f"{demo.id:<12} {status:<8} {outcome.seconds:6.1f} s (estimate {est:g} s)  "
            f"device {device:<7} checks {passed}/{total}"
        )
        if not outcome.ok:
            line += f"  {clean_line(outcome.message)}"
        else:
            line += f" ({n_exact} exact, tolerance {'-' if tol is None else f'{tol:g}'})"
            if passed < total:
                failed = [k for k, c in outcome.checks.items() if c.get("passed") is False]
                line += "  failed: " + ", ".join(failed)
        print(line, flush=True)
        if status != "ok":
            worst = EXIT_USAGE if outcome.returncode == EXIT_USAGE else EXIT_FAILED
        if outcome.returncode == EXIT_USAGE:  # e.g. no CUDA: every other demo would say so too
            break
    return worst


def clean_line(text: str) -> str:
    from labdeck.demos.render import clean

    return clean(text).replace("\n", " ")[:200]


# ----------------------------------------------------------------------------- history


def cmd_history(args: argparse.Namespace) -> int:
    from labdeck.demos import history

    workspace: CommandWorkspace = args.workspace
    store = workspace.store
    history.mark_interrupted(store)
    runs = history.list_runs(store, limit=args.limit, demo_id=args.demo)
    if args.json:
        json.dump([history.run_to_dict(r) for r in runs], sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return 0
    if not runs:
        print("No demo runs yet. Try `labdeck demo run attention`.")
        return 0
    from labdeck.demos.render import table

    rows = []
    for r in runs:
        secs = (r.ended_at - r.started_at).total_seconds() if r.ended_at and r.started_at else None
        checks = r.checks or {}
        passed, failed, _ = count_checks(checks)
        rows.append(
            [
                r.id,
                r.started_at.strftime("%Y-%m-%d %H:%M") if r.started_at else "",
                r.demo_id,
                r.status,
                f"{secs:.1f}" if secs is not None else "",
                f"{passed}/{passed + failed}" if checks else "",
                r.card_key or "",
                (r.message or "")[:60],
            ]
        )
    print(
        table(
            None,
            ["id", "started", "demo", "status", "s", "checks", "card", "message"],
            rows,
            max_cell=60,
        )
    )
    return 0

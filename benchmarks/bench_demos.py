"""Measure every demo preset against its registry estimate (``Demo.seconds``).

    python benchmarks/bench_demos.py [--preset quick|full|both] [--demo ID ...] [--threads 1]

Each run is a real child process (``DemoProcess``, as the CLI and TUI start it) with an empty,
private model cache, so training is timed too. It prints wall time, the child's CPU time (user +
system, from ``getrusage``: what the estimates mean, and stable on a loaded machine where wall
time is not) and the ratio measured CPU / estimate. It fails nothing: it is for re-calibrating
the registry, whose estimates are "seconds of CPU on one thread".
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from labdeck.demos import registry
from labdeck.demos.runner import DemoProcess


def _child_cpu() -> float:
    use = resource.getrusage(resource.RUSAGE_CHILDREN)
    return use.ru_utime + use.ru_stime


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--preset", choices=("quick", "full", "both"), default="both")
    ap.add_argument("--demo", action="append", default=None)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args(argv)
    presets = ("quick", "full") if args.preset == "both" else (args.preset,)
    demos = [registry.get(d) for d in args.demo] if args.demo else registry.all_demos()
    print(f"{'demo':<10} {'preset':<6} {'wall s':>7} {'cpu s':>7} {'estimate':>8} {'ratio':>6}")
    with tempfile.TemporaryDirectory(prefix="labdeck-bench-cache-") as cache:
        os.environ["LABDECK_CACHE"] = cache  # fresh: every run trains
        for demo in demos:
            for preset in presets:
                before = _child_cpu()
                proc = DemoProcess(
                    demo.id,
                    {},
                    device=args.device,
                    threads=args.threads,
                    preset=preset,
                    timeout=registry.run_timeout(demo, preset),
                )
                outcome = proc.run()
                cpu = _child_cpu() - before
                est = float(demo.seconds[preset])
                passed, total = outcome.checks_passed()
                note = "" if outcome.ok else f"  {outcome.status}: {outcome.message}"
                print(
                    f"{demo.id:<10} {preset:<6} {outcome.seconds:7.1f} {cpu:7.1f} {est:8.1f} "
                    f"{cpu / est:6.2f}  checks {passed}/{total}{note}",
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

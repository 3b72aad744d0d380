"""``labdeck demo list | run | history`` end to end: real child processes, real database."""

from __future__ import annotations

import argparse
import json
import os
import signal
import time

import pytest
from demo_helpers import children_of, read_until, wait_gone

pytest.importorskip("torch")


def history(cli) -> list[dict]:
    done = cli("demo", "history", "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_register_adds_the_demo_commands() -> None:
    from labdeck.demos import commands

    parser = argparse.ArgumentParser()
    parser.add_argument("--home", default=None)
    commands.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["demo", "run", "vae", "--epochs", "3", "--preset", "quick"])
    assert args.func is commands.cmd_run
    assert (args.demo_id, args.param_epochs, args.preset) == ("vae", "3", "quick")
    args = parser.parse_args(["demo", "run", "attention", "--d-model", "32", "--json"])
    assert args.param_d_model == "32" and args.json
    assert parser.parse_args(["demo", "history"]).func is commands.cmd_history
    assert parser.parse_args(["demo", "list"]).func is commands.cmd_list


def test_list(cli) -> None:
    done = cli("demo", "list")
    assert done.returncode == 0
    for demo_id in ("attention", "vae", "ddim", "ctc"):
        assert demo_id in done.stdout
    listed = json.loads(cli("demo", "list", "--json").stdout)
    assert [d["id"] for d in listed][:4] == ["attention", "vae", "ddim", "ctc"]
    assert "decoding" in [d["id"] for d in listed]
    verbose = cli("demo", "list", "-v").stdout
    assert "--train-steps" in verbose and "sqrt(d_k)" in verbose


def test_run_json_streams_events_ends_with_outcome_and_is_recorded(cli) -> None:
    done = cli("demo", "run", "vae", "--epochs", "2", "--json", "--card", "exam-c:c3.4",
               "--seed", "1")  # fmt: skip
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines()]
    types = [e["type"] for e in events]
    assert types[-2:] == ["result", "outcome"]
    assert {"progress", "table", "image", "series", "text", "metric"} <= set(types)
    result, outcome = events[-2], events[-1]
    assert result["checks"]["kl_analytic_matches_monte_carlo"]["passed"]
    assert outcome["status"] == "ok" and outcome["run_id"] == 1
    assert outcome["metrics"] == result["metrics"]
    (run,) = history(cli)
    assert run["demo_id"] == "vae" and run["status"] == "ok"
    assert run["card_key"] == "exam-c:c3.4" and run["seed"] == 1 and run["threads"] == 1
    assert run["device"] == "cpu"  # what --device auto resolved to on this machine
    assert run["params"] == {
        "epochs": 2,
        "latent": 8,
        "hidden": 512,
        "batch": 128,
        "lr": 0.003,
        "beta": 1.0,
    }
    assert run["metrics"]["test_neg_elbo"] == result["metrics"]["test_neg_elbo"]
    assert run["ended_at"] is not None


def test_run_text_output_without_colour(cli) -> None:
    assert cli("cards", "--search", "sqrt").returncode == 0  # loads the shipped deck
    done = cli("demo", "run", "attention", "--card", "exam-b:b2.2", NO_COLOR="1")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "preset quick" in out  # the CLI's default preset is quick
    assert "\x1b" not in out
    assert "Self-attention weights of head 0, causal mask" in out
    assert "columns: 0=the  1=cat  2=sat" in out  # whole words name the heatmap's columns
    assert "██" in out and "░░" in out  # heatmaps drawn with shade characters
    assert "entropy with 1/sqrt(d_k) / entropy raw q.k" in out  # a grouped plot
    assert "legend: • entropy with 1/sqrt(d_k)   x entropy raw q.k" in out
    assert "✓ pass  exact   matches_torch_sdpa" in out
    assert "attention: finished in" in out and "11/11 checks passed" in out
    notice = out[out.index("What to notice") :]
    assert "Card exam-b:b2.2: " in notice  # the card's key point the demo illustrates
    assert notice.split("\n")[1].startswith("  Card exam-b:b2.2: ")
    flat = " ".join(notice.split())  # each entry is wrapped at the terminal's width
    assert (
        "Card exam-b:b2.2: Dividing attention logits by sqrt(d_k) restores unit variance "
        "regardless of head dimension. Each output"
    ) in flat
    assert "Masked keys get exactly zero weight" in flat
    table = cli("demo", "history").stdout
    assert "attention" in table and "ok" in table and "11/11" in table


def test_a_bool_knob_is_a_bare_flag_and_its_effect_is_not_a_failure(cli) -> None:
    done = cli("demo", "run", "attention", "--no-scale", NO_COLOR="1")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "scores = q.k (no 1/sqrt(d_k))" in out
    assert "~ note  changed: scaled_softmax_not_saturated" in out and "no_scale=True" in out
    assert "✗ FAIL" not in out and "expectation(s) changed by the parameters" in out
    assert "missed their target" not in done.stderr


def test_selftest_prints_one_line_per_demo(cli) -> None:
    done = cli("demo", "selftest", "--device", "cpu", "--demo", "attention")
    assert done.returncode == 0, done.stderr
    (line,) = done.stdout.splitlines()
    assert line.split()[:2] == ["attention", "ok"]
    assert "device cpu" in line and "checks 11/11" in line and "estimate 1.5 s" in line
    assert "(8 exact, tolerance 1e-05)" in line  # the loosest exactness limit on this device
    bad = cli("demo", "selftest", "--demo", "gan")
    assert bad.returncode == 2 and "unknown demo 'gan'" in bad.stderr


def test_selftest_on_a_missing_cuda_device_says_so_once(cli) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA: `labdeck demo selftest --device cuda` runs for real")
    done = cli("demo", "selftest", "--device", "cuda")
    assert done.returncode == 2
    (line,) = done.stdout.splitlines()  # stops at the first demo: the others would fail alike
    assert line.split()[:2] == ["attention", "failed"] and "CUDA is not available" in line


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["vae", "--epochs", "-5"], "parameter 'epochs' must be an integer in 1..5000"),
        (["vae", "--heads", "2"], "parameter 'heads' is not a parameter of this demo"),
        (["attention", "--heads", "5"], "parameter 'heads' must divide d_model=64"),
        (["gan"], "unknown demo 'gan'"),
        (["vae", "--threads", "0"], "parameter 'threads' must be >= 1"),
    ],
)
def test_bad_arguments_exit_2_with_a_message(cli, args: list[str], fragment: str) -> None:
    done = cli("demo", "run", *args)
    assert done.returncode == 2
    assert fragment in done.stderr
    assert "Traceback" not in done.stderr


def test_unavailable_device_is_a_clear_error(cli) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    done = cli("demo", "run", "attention", "--device", "cuda")
    assert done.returncode == 2
    assert "CUDA is not available" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    (run,) = history(cli)
    assert run["status"] == "failed" and "CUDA" in run["message"]


def test_timeout_kills_the_demo(cli) -> None:
    start = time.monotonic()
    done = cli("demo", "run", "ddim", "--timeout", "2", "--json")
    assert time.monotonic() - start < 30
    assert done.returncode == 124
    assert "no result within 2 s" in done.stderr
    outcome = json.loads(done.stdout.splitlines()[-1])
    assert outcome["type"] == "outcome" and outcome["status"] == "timeout"
    assert history(cli)[0]["status"] == "timeout"


def test_ctrl_c_cancels_the_child_and_exits_130(cli, cli_popen) -> None:
    proc = cli_popen("demo", "run", "ctc", "--json")
    read_until(proc.stdout, lambda e: e.get("type") in ("text", "progress"))
    kids = children_of(proc.pid)
    assert kids, "the demo child should be running"
    os.kill(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert "cancelled (Ctrl-C)" in err
    assert "Traceback" not in err
    assert all(wait_gone(pid) for pid in kids)
    run = history(cli)[0]
    assert run["status"] == "cancelled" and run["ended_at"] is not None


def test_a_child_killed_mid_run_leaves_the_cli_with_a_message(cli, cli_popen) -> None:
    proc = cli_popen("demo", "run", "ctc", "--json")
    read_until(proc.stdout, lambda e: e.get("type") in ("text", "progress"))
    (child,) = children_of(proc.pid)
    os.kill(child, signal.SIGKILL)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 3
    assert "killed by SIGKILL before it reported a result" in err
    run = history(cli)[0]
    assert run["status"] == "crashed"

"""The LoRA demo, run for real in a child process: exactness checks and sane numbers."""

from __future__ import annotations

import pytest
from child_runs import changed, child_run, exact_checks, failed, of_type

pytest.importorskip("torch")
pytest.importorskip("sklearn")

# 64-256-256-10: r (d_in + d_out) summed over the three linear layers is 1098 r
PER_RANK = (64 + 256) + (256 + 256) + (256 + 10)


def test_lora_quick_meets_every_check() -> None:
    events, out = child_run("lora")
    assert not failed(out.checks), failed(out.checks)
    assert len(exact_checks(out)) == 7
    m = out.metrics
    assert m["total_params"] == 64 * 256 + 256 + 256 * 256 + 256 + 256 * 10 + 10
    for r in (1, 2, 4, 8):
        assert m[f"trainable_lora_r{r}"] == r * PER_RANK
        assert m[f"acc_b_lora_r{r}"] > m["base_acc_b"] + 0.5
    assert m["trainable_adapter"] == 2 * (2 * 256 * 16 + 256 + 16)
    assert m["trainable_full"] == m["total_params"]
    assert m["lora_start_err"] == 0.0 and m["adapter_start_err"] == 0.0
    assert m["merge_err_f64"] <= 1e-10
    assert m["acc_b_lora_r8"] >= m["acc_b_lora_r1"] - 0.02
    assert m["full_ft_acc_a"] < m["base_acc_a"] - 0.05  # full fine-tuning forgets task A
    table = next(t for t in of_type(events, "table") if t["title"].startswith("task B"))
    assert table["rows"][0][0] == "base (no adaptation)"
    assert {"LoRA", "full fine-tuning"} <= {s["name"] for s in of_type(events, "series")}


def test_an_odd_rank_joins_the_sweep_and_exactness_holds_for_another_task() -> None:
    knobs = {"task_b": "invert", "rank": 3, "alpha": 2.0, "pretrain_steps": 40, "adapt_steps": 20}
    _, out = child_run("lora", **knobs)
    assert exact_checks(out) and not failed(out.checks), failed(out.checks)
    assert changed(out.checks)  # the short training moved an expectation: not a failure
    assert out.metrics["trainable_lora_r3"] == 3 * PER_RANK
    assert out.metrics["lora_start_err"] == 0.0

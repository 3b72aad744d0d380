"""The contrastive demo, run for real in a child process: exactness checks and sane numbers."""

from __future__ import annotations

import math

import pytest
from child_runs import child_run, exact_checks, failed, of_type

pytest.importorskip("torch")

SIZES = (2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)


def test_contrastive_quick_meets_every_check() -> None:
    events, out = child_run("contrastive")
    assert not failed(out.checks), failed(out.checks)
    assert len(exact_checks(out)) == 4
    m = out.metrics
    assert m["ce_max_err"] <= 1e-12
    assert m["constant_logits_loss"] == pytest.approx(math.log(64), abs=1e-12)
    for direction in ("a_to_b", "b_to_a"):
        assert 0.3 <= m[f"{direction}_r1"] <= m[f"{direction}_r5"] <= 1.0
    estimates = [m[f"mi_estimate_N{n}"] for n in SIZES]
    assert all(e <= math.log(n) + 1e-12 for e, n in zip(estimates, SIZES, strict=True))
    assert estimates == sorted(estimates)  # more negatives, a higher (tighter) lower bound
    assert m["gap_small_n"] < 0.05 < 0.5 < m["gap_large_n"]
    assert m["temperature"] != pytest.approx(0.07, abs=1e-3)  # the temperature was learned
    bound = next(t for t in of_type(events, "table") if t["title"].startswith("InfoNCE"))
    assert [r[0] for r in bound["rows"]] == list(SIZES)


def test_a_fixed_large_temperature_stays_fixed_and_retrieves_worse() -> None:
    _, learned = child_run("contrastive")
    _, fixed = child_run("contrastive", temperature=1.0)
    assert exact_checks(fixed) and not failed(fixed.checks), failed(fixed.checks)
    assert fixed.metrics["temperature"] == pytest.approx(1.0)
    assert fixed.metrics["a_to_b_r1"] < learned.metrics["a_to_b_r1"]
    assert "recall_at_1_a_to_b" in fixed.checks

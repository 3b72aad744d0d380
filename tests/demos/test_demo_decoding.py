"""The decoding demo, run for real in a child process: exactness checks and sane numbers."""

from __future__ import annotations

import pytest
from child_runs import child_run, exact_checks, failed, of_type

pytest.importorskip("torch")


def test_decoding_quick_meets_every_check() -> None:
    events, out = child_run("decoding")
    assert not failed(out.checks), failed(out.checks)
    assert set(exact_checks(out)) == {
        "exact_kv_cache_equals_recompute",
        "exact_filters_match_brute_force",
        "exact_filtered_rows_sum_to_one",
        "exact_beam1_equals_greedy",
    }
    m = out.metrics
    assert m["kv_cache_max_err_f64"] <= 1e-9
    assert m["filter_max_err"] <= 1e-12
    assert m["final_loss"] < m["unigram_entropy"] - 0.8  # it learned more than letter counts
    assert m["entropy_t_low"] < m["entropy_t_high"]
    assert m["distinct2_t_low"] < m["distinct2_t_high"]
    assert m["length_alpha0"] <= m["length_alpha2"]  # the length penalty lengthens beams
    sweep = next(t for t in of_type(events, "table") if t["title"].startswith("diversity"))
    assert [r[0] for r in sweep["rows"]] == ["0.25", "0.5", "0.75", "1", "1.5", "2"]
    assert {"entropy", "distinct-2"} <= {s["name"] for s in of_type(events, "series")}


def test_temperature_moves_entropy_and_exactness_holds_at_any_knob() -> None:
    knobs = {"train_steps": 60, "top_k": 7, "top_p": 0.9, "beams": 3, "length_penalty": 1.5}
    _, cold = child_run("decoding", temperature=0.1, **knobs)
    _, hot = child_run("decoding", temperature=2.0, **knobs)
    for out in (cold, hot):
        assert exact_checks(out) and not failed(out.checks), failed(out.checks)
    assert cold.metrics["entropy_at_temperature"] < 0.5 * hot.metrics["entropy_at_temperature"]

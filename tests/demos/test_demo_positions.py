"""The positions demo, run for real in a child process: exactness checks and sane numbers."""

from __future__ import annotations

import pytest
from child_runs import changed, child_run, exact_checks, failed, of_type

pytest.importorskip("torch")


def test_positions_quick_meets_every_check() -> None:
    events, out = child_run("positions")
    assert not failed(out.checks), failed(out.checks)
    assert len(exact_checks(out)) == 7
    m = out.metrics
    assert m["longest_len"] == 128
    for enc in ("sinusoidal", "learned", "rope", "alibi"):
        assert m[f"loss_{enc}_L16"] < m["loss_none_L16"]  # positions help at the train length
        assert m[f"loss_{enc}_L16"] >= m["oracle_train_len"] - 0.02  # never beats the truth
    assert m["loss_none_L16"] > m["oracle_train_len"] + 0.15
    # relative encodings extrapolate, absolute ones do not
    assert max(m["loss_rope_L128"], m["loss_alibi_L128"]) < m["loss_learned_L128"] - 0.3
    assert m["loss_alibi_L128"] < m["oracle_longest"] + 0.3
    assert m["rope_pi_last_position"] < 16 <= m["rope_trained_max_angle"] + 1
    table = next(t for t in of_type(events, "table") if t["title"].startswith("test loss"))
    assert [r[0] for r in table["rows"]][:6] == [
        "none", "sinusoidal", "learned", "rope", "alibi", "rope + PI"
    ]  # fmt: skip


def test_alibi_slopes_follow_the_head_count_and_exactness_holds() -> None:
    knobs = {"heads": 2, "d_model": 16, "train_steps": 20, "max_factor": 2, "train_len": 12}
    events, out = child_run("positions", **knobs)
    assert exact_checks(out) and not failed(out.checks), failed(out.checks)
    assert changed(out.checks)  # the short training moved an expectation: not a failure
    slopes = next(t for t in of_type(events, "table") if t["title"].startswith("ALiBi"))
    assert [float(r[1]) for r in slopes["rows"]] == [2.0**-4, 2.0**-8]
    assert out.metrics["longest_len"] == 24

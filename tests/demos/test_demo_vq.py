"""The vq demo, run for real in a child process; its numbers recomputed independently (numpy and
scikit-learn's digits, from the usage and images it streams)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from child_runs import child_run, exact_checks, failed, of_type

pytest.importorskip("torch")
pytest.importorskip("sklearn")

EXACT = {
    "exact_straight_through_gradient",
    "exact_straight_through_forward_is_the_code",
    "exact_codebook_gets_no_reconstruction_gradient",
    "exact_quantizer_is_cdist_argmin",
    "exact_gumbel_hard_is_one_hot",
    "exact_gumbel_hard_gradient_is_soft",
    "exact_gumbel_max_matches_softmax",
}


def mean_image_nats(seed: int = 0) -> float:
    """-log p(x) of independent Bernoulli(mean training pixel) on the demo's test split."""
    from sklearn.datasets import load_digits

    x = (load_digits().data / 16.0 >= 0.5).astype(np.float64)
    perm = np.random.default_rng(seed).permutation(len(x))
    test, train = x[perm[:360]], x[perm[360:]]
    p = np.clip(train.mean(0), 1e-4, 1 - 1e-4)
    return float(-(test * np.log(p) + (1 - test) * np.log(1 - p)).sum(1).mean())


def usage_of(events: list[dict]) -> np.ndarray:
    (s,) = [e for e in of_type(events, "series") if e["name"] == "code usage (training set)"]
    return np.asarray(s["y"])


def test_vq_quick_meets_every_check_and_its_numbers_recompute() -> None:
    events, out = child_run("vq")
    assert not failed(out.checks), failed(out.checks)
    assert set(exact_checks(out)) == EXACT
    assert all(out.checks[k]["kind"] == "exact" for k in EXACT)
    m = out.metrics
    assert m["st_grad_err"] == 0.0 and m["st_codebook_grad"] == 0.0
    assert m["argmin_mismatches"] == 0
    assert m["baseline_nats"] == pytest.approx(mean_image_nats(), rel=1e-5)
    assert 0 < m["test_recon_nats"] < 0.6 * m["baseline_nats"]
    assert m["rate_nats"] == pytest.approx(4 * math.log(32))
    usage = usage_of(events)
    assert len(usage) == 32 and usage.sum() == pytest.approx(1.0)
    nz = usage[usage > 0]
    assert m["perplexity"] == pytest.approx(math.exp(-(nz * np.log(nz)).sum()), rel=1e-6)
    assert m["dead_codes"] == int((usage == 0).sum())
    shown = next(e for e in of_type(events, "image") if e["title"].startswith("test digits"))
    (pairs,) = shown["grid"]  # each cell: digit | blank column | reconstruction
    assert len(pairs) == 16 and all(len(img) == 8 and len(img[0]) == 17 for img in pairs)
    digits = np.array([[row[:8] for row in img] for img in pairs])
    probs = np.clip(np.array([[row[9:] for row in img] for img in pairs]), 1e-6, 1 - 1e-6)
    assert set(np.unique(digits)) <= {0.0, 1.0}  # binarised
    shown_nats = -(digits * np.log(probs) + (1 - digits) * np.log(1 - probs)).sum((1, 2)).mean()
    assert shown_nats < 0.8 * m["baseline_nats"]  # the shown reconstructions are far from mean
    codes = [list(map(int, c.split(": ")[1].split())) for c in shown["labels"][0]]
    assert all(len(c) == 4 and all(0 <= k < 32 for k in c) for c in codes)
    # the reconstruction nats bound the thresholded pixel errors from above, image by image:
    # a wrong pixel costs at least log 2 nats
    assert m["pixels_wrong"] * math.log(2) <= m["test_recon_nats"]


def test_gumbel_and_a_small_codebook_keep_every_exactness_check() -> None:
    events, out = child_run("vq", quantizer="gumbel", codebook=6, tokens=2, epochs=4)
    assert not [k for k, c in out.checks.items() if c["passed"] is False]  # changed, not failed
    assert not failed(exact_checks(out)) and set(exact_checks(out)) == EXACT
    m = out.metrics
    assert m["rate_nats"] == pytest.approx(2 * math.log(6))
    assert m["gumbel_one_hot_err"] <= 4e-16 and m["gumbel_grad_err"] == 0.0
    assert m["distinct_test_codes"] <= 36  # 6^2 possible code sequences
    usage = usage_of(events)
    assert len(usage) == 6 and m["dead_codes"] == int((usage == 0).sum())
    shown = next(e for e in of_type(events, "image") if e["title"].startswith("test digits"))
    assert all(0 <= int(k) < 6 for c in shown["labels"][0] for k in c.split(": ")[1].split())

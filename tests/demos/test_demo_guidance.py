"""The guidance demo, run for real in a child process; its numbers recomputed independently
(numpy, from the scatter points it streams and from the mixture's definition)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from child_runs import child_run, exact_checks, failed, of_type

pytest.importorskip("torch")

RADIUS, STD = 1.2, 0.3  # the demo's ring of 8 modes, alternately class 0 and 1
CENTRES = RADIUS * np.stack(
    [np.cos(2 * np.pi * np.arange(8) / 8), np.sin(2 * np.pi * np.arange(8) / 8)], 1
)
EXACT = {
    "exact_w0_equals_conditional_sampler",
    "exact_w_minus1_equals_unconditional_sampler",
    "exact_guided_eps_formula",
    "exact_noisy_classifier_gradient",
    "exact_guided_ddim_matches_paper_step",
}


def posterior(x: np.ndarray, label: int) -> np.ndarray:
    """p(label | x) for the true mixture, written independently of the demo."""
    dens = np.exp(-((x[:, None, :] - CENTRES[None]) ** 2).sum(-1) / (2 * STD**2))
    return dens[:, label::2].sum(1) / dens.sum(1)


def along_ring(x: np.ndarray, label: int) -> float:
    """RMS offset from the nearest mode of the class, along the ring's tangent there."""
    own = CENTRES[label::2]
    k = ((x[:, None, :] - own[None]) ** 2).sum(-1).argmin(1)
    u = own[k] / RADIUS
    tangent = np.stack([-u[:, 1], u[:, 0]], 1)
    return float(np.sqrt((((x - own[k]) * tangent).sum(1) ** 2).mean()))


def bayes_accuracy(n: int = 200_000) -> float:
    rng = np.random.default_rng(5)
    k = rng.integers(0, 8, n)
    x = CENTRES[k] + STD * rng.standard_normal((n, 2))
    return float(
        np.mean(posterior(x, 0)[k % 2 == 0] > 0.5) / 2
        + np.mean(posterior(x, 1)[k % 2 == 1] > 0.5) / 2
    )


def scatter(events: list[dict], w: str, label: int) -> np.ndarray:
    name = f"w = {w}: asked class {label}"
    (s,) = [e for e in of_type(events, "series") if e["name"] == name]
    return np.stack([s["x"], s["y"]], 1)


def test_guidance_quick_meets_every_check_and_its_numbers_recompute() -> None:
    events, out = child_run("guidance")
    assert not failed(out.checks), failed(out.checks)
    assert set(exact_checks(out)) == EXACT
    assert all(out.checks[k]["kind"] == "exact" for k in EXACT)
    m = out.metrics
    assert abs(m["dropped_label_rate"] - 0.2) < 0.01  # labels -> null at p_uncond
    # the Bayes accuracy of the data, from the mixture's definition (about 0.875)
    bayes = bayes_accuracy()
    assert abs(m["w0_tilted_on_class"] - bayes) < 0.01  # the tilted target at w = 0 is the data
    assert abs(m["data_on_class"] - bayes) < 0.05  # 300 true points per class
    # the sweep's numbers, recomputed from the points it plotted
    for w in ("0", "0.5", "1", "2", "3", "4"):
        pts = {c: scatter(events, w, c) for c in (0, 1)}
        assert all(len(p) == 300 for p in pts.values())
        on = np.mean([np.mean(posterior(pts[c], c) > 0.5) for c in (0, 1)])
        assert on == pytest.approx(m[f"w{w}_on_class"], abs=1e-9)
        along = np.mean([along_ring(pts[c], c) for c in (0, 1)])
        assert along == pytest.approx(m[f"w{w}_along"], rel=1e-4)
        assert m[f"w{w}_calls"] == 100  # 50 DDIM steps, two network calls each
    ons = [m[f"w{w}_on_class"] for w in ("0", "1", "2", "4")]
    assert ons == sorted(ons) and ons[-1] > ons[0] + 0.1  # guidance: more on the asked class
    assert m["w4_along"] < 0.5 * m["w0_along"]  # and narrower modes
    assert m["w4_recall"] < m["w0_recall"]
    # classifier guidance with the exact noisy classifier: s = 1 is the conditional target
    assert abs(m["w0_cg_on_class"] - bayes) < 0.05
    assert m["w4_cg_on_class"] > 0.97 and m["w4_cg_recall"] < m["w0_cg_recall"]
    sweep = next(t for t in of_type(events, "table") if t["title"].startswith("guidance sweep"))
    assert [r[0] for r in sweep["rows"]] == ["0", "0.5", "1", "2", "3", "4", "data"]
    assert [r[1] for r in sweep["rows"][:-1]] == ["1", "1.5", "2", "3", "4", "5"]  # s = 1 + w


def test_exactness_holds_at_other_knobs_and_a_missed_expectation_is_the_knob_effect() -> None:
    knobs = {"train_steps": 150, "p_uncond": 0.0, "steps": 7, "eta": 0.6, "samples": 60}
    events, out = child_run("guidance", scale=-0.5, classifier="clean", **knobs)
    assert not failed(exact_checks(out)), failed(exact_checks(out))
    assert not [k for k, c in out.checks.items() if c["passed"] is False]  # changed, not failed
    changed = [c for c in out.checks.values() if c["passed"] is None]
    assert changed and all(c["changed"].startswith("changed: ") for c in changed)
    assert "p_uncond=0.0" in changed[0]["changed"]
    m = out.metrics
    assert m["dropped_label_rate"] == 0.0
    assert m["calls_per_sample_run"] == 14
    assert "w-0.5_on_class" in m  # the chosen scale joined the sweep
    assert len(scatter(events, "-0.5", 1)) == 30
    assert math.isfinite(m["w4_on_class"]) and math.isfinite(m["w4_cg_off_support"])


def log_posterior(x: np.ndarray, abar: float, label: int) -> float:
    """log p_t(label | x_t) of the noised mixture: mode k becomes N(sqrt(abar) mu_k, v I)."""
    v = abar * STD**2 + 1 - abar
    logit = -((x[None, :] - np.sqrt(abar) * CENTRES) ** 2).sum(-1) / (2 * v)
    top = logit.max()
    return float(np.log(np.exp(logit[label::2] - top).sum()) - np.log(np.exp(logit - top).sum()))


def test_the_noisy_classifier_gradient_matches_finite_differences() -> None:
    import torch

    from labdeck.demos.guidance import noisy_class_grad

    rng = np.random.default_rng(3)
    h = 1e-6
    for abar in (1.0, 0.6, 0.05):
        x = 1.5 * rng.standard_normal((5, 2))
        labels = rng.integers(0, 2, 5)
        ours = noisy_class_grad(torch.tensor(x), abar, torch.tensor(labels)).numpy()
        for i in range(5):
            for d in range(2):
                e = np.zeros(2)
                e[d] = h
                up = log_posterior(x[i] + e, abar, int(labels[i]))
                down = log_posterior(x[i] - e, abar, int(labels[i]))
                assert ours[i, d] == pytest.approx((up - down) / (2 * h), abs=1e-6)

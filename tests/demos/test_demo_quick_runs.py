"""Every demo trains and runs for real (quick preset; ddim at a reduced size) and meets its
targets. Nothing here is mocked: these are the same code paths the child process runs."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("torch")
pytest.importorskip("sklearn")

# One worker runs these (and test_demo_render's vae test): ``demo_run`` runs each demo once
# per worker, and attention, ctc and vae are read by several tests here.
pytestmark = pytest.mark.xdist_group("demo-runs")


def _check_all_passed(result: dict) -> None:
    failed = {k: v for k, v in result["checks"].items() if not v["passed"]}
    assert not failed, failed


def _types(collector) -> set[str]:
    return {e["type"] for e in collector.events}


def test_attention_quick(demo_run) -> None:
    col, result = demo_run("attention")
    _check_all_passed(result)
    m = result["metrics"]
    assert m["sdpa_max_abs_err"] <= 1e-5
    assert m["mha_max_abs_err"] <= 1e-5
    assert "bert_max_abs_err" not in m  # quick never imports transformers
    assert m["cross_attention_max_abs_err"] <= 1e-5
    assert m["padding_influence"] == 0.0 and m["future_influence"] == 0.0
    heatmaps = [e for e in col.of_type("image") if "data" in e]
    assert len(heatmaps) == 2
    causal = heatmaps[0]["data"]
    n = len(causal)
    assert all(causal[i][j] == 0.0 for i in range(n) for j in range(i + 1, n))  # no future
    assert all(abs(sum(row) - 1.0) < 1e-5 for row in causal)
    # distinct W_q and W_k: the largest weight of a row is not always on the diagonal
    assert any(max(range(i + 1), key=lambda j: causal[i][j]) != i for i in range(1, n))
    assert {"progress", "table", "series", "image", "text", "result"} <= _types(col)


def test_vae_quick(demo_run) -> None:
    col, result = demo_run("vae")
    _check_all_passed(result)
    m = result["metrics"]
    assert m["test_neg_elbo"] <= 21.0 < m["baseline_neg_log_lik"]
    assert m["test_kl"] >= 1.0
    assert m["classifier_acc_recon"] >= 0.75
    assert abs(m["kl_analytic"] - m["kl_monte_carlo"]) <= 0.02
    grids = [e for e in col.of_type("image") if "grid" in e]
    assert len(grids) == 3
    digit = grids[0]["grid"][0][0]
    assert len(digit) == 8 and len(digit[0]) == 8
    assert {v for row in digit for v in row} <= {0.0, 1.0}  # binarised: a real Bernoulli NLL
    loss = next(e for e in col.of_type("series") if e["name"] == "train -ELBO")
    assert len(loss["y"]) == 100 and loss["y"][-1] < loss["y"][0]


def test_ddim_quick(demo_run) -> None:
    col, result = demo_run("ddim")
    _check_all_passed(result)
    m = result["metrics"]
    assert m["ddim_eta1_vs_ddpm_max_err"] <= 1e-6
    assert m["ddpm_calls"] == 1000 and m["ddim50_eta0_calls"] == 50
    assert m["ddim50_eta0_mmd2"] <= 0.015
    assert m["ddim50_eta0_nn"] <= 2 * m["ddpm_nn"]
    assert m["ddim50_eta0_nn"] < m["ddim20_eta0_nn"] < m["ddim10_eta0_nn"]
    scatters = [e for e in col.of_type("series") if e["kind"] == "scatter"]
    assert {s["name"] for s in scatters} >= {"held-out", "DDPM", "DDIM-50 eta=0"}


def test_ctc_quick(demo_run) -> None:
    col, result = demo_run("ctc")
    _check_all_passed(result)
    m = result["metrics"]
    assert m["greedy_seq_acc"] >= 0.90
    assert m["greedy_cer"] <= 0.03
    assert m["beam_seq_acc"] >= m["greedy_seq_acc"] - 0.01
    assert m["ctc_vs_brute_force_max_err"] <= 1e-6
    align = next(e for e in col.of_type("image") if "data" in e)
    assert len(align["data"]) == 9  # blank + 8 symbols
    columns = list(zip(*align["data"], strict=True))
    assert all(abs(sum(c) - 1.0) < 1e-4 for c in columns)  # a distribution per frame


def test_results_are_strict_json(demo_run) -> None:
    for demo_id, kw in (("attention", {}), ("ctc", {})):
        col, _ = demo_run(demo_id, **kw)
        for event in col.events:
            json.loads(json.dumps(event, allow_nan=False))


def test_seeded_cpu_runs_are_reproducible() -> None:
    from labdeck.demos.run import run_inprocess

    _, a = run_inprocess("vae", {"epochs": 2}, seed=3)
    _, b = run_inprocess("vae", {"epochs": 2}, seed=3)
    _, c = run_inprocess("vae", {"epochs": 2}, seed=4)
    assert a["metrics"] == b["metrics"]
    assert a["metrics"] != c["metrics"]


def test_attention_full_matches_bert(demo_run) -> None:
    """The BERT comparison runs in the full preset (quick skips the transformers import)."""
    _, result = demo_run("attention", preset="full")
    _check_all_passed(result)
    assert result["metrics"]["bert_max_abs_err"] <= 1e-5
    assert result["checks"]["matches_bert_self_attention"]["kind"] == "exact"


def test_a_knob_changes_expectations_not_exactness(demo_run) -> None:
    """--temperature 0.1 saturates the softmax: the quality expectation reports the change,
    every exactness check (SDPA with the same scale, masks) still passes."""
    _, result = demo_run("attention", temperature=0.1)
    checks = result["checks"]
    exact = {k: c for k, c in checks.items() if c["kind"] == "exact"}
    assert exact and all(c["passed"] is True for c in exact.values())
    note = checks["scaled_softmax_not_saturated"]
    assert note["passed"] is None and note["changed"].startswith("changed: ")
    assert "temperature=0.1" in note["changed"]
    assert (
        result["metrics"]["heatmap_entropy"]
        < demo_run("attention")[1]["metrics"]["heatmap_entropy"]
    )


def test_no_scale_saturates_like_the_unscaled_arm(demo_run) -> None:
    _, result = demo_run("attention", no_scale=True)
    m = result["metrics"]
    assert m["scaled_max_weight"] == m["unscaled_max_weight"] >= 0.9
    assert result["checks"]["matches_torch_sdpa"]["passed"] is True


def test_vae_beta_collapses_the_posterior() -> None:
    from labdeck.demos.run import run_inprocess

    _, base = run_inprocess("vae", {"epochs": 30}, preset="quick")
    _, high = run_inprocess("vae", {"epochs": 30, "beta": 4.0}, preset="quick")
    assert high["metrics"]["test_kl"] < 0.5 * base["metrics"]["test_kl"]
    assert high["checks"]["kl_analytic_matches_monte_carlo"]["passed"] is True


def test_ddim_headline_sampler_follows_steps_and_eta() -> None:
    from labdeck.demos.run import run_inprocess

    _, r = run_inprocess("ddim", {"train_steps": 300, "samples": 100, "steps": 5, "eta": 0.5})
    m = r["metrics"]
    assert m["headline_calls"] == 5 and "ddim5_eta0.5_mmd2" in m
    assert r["checks"]["ddim_eta1_all_steps_equals_ddpm"]["passed"] is True
    assert all(c["passed"] is not False for c in r["checks"].values())  # changed, not failed


def test_second_run_loads_the_trained_model_from_the_cache(tmp_path, monkeypatch) -> None:
    from labdeck.demos.run import run_inprocess

    monkeypatch.setenv("LABDECK_CACHE", str(tmp_path))
    col1, a = run_inprocess("vae", {"epochs": 3}, seed=5)
    col2, b = run_inprocess("vae", {"epochs": 3}, seed=5)
    assert a["cached"] is False and b["cached"] is True
    assert a["metrics"] == b["metrics"]  # the same results whether trained or loaded
    assert len(list((tmp_path / "demos").glob("vae-*.pt"))) == 1
    assert any(e.get("label") == "training" for e in col1.of_type("progress"))
    assert not any(e.get("label") == "training" for e in col2.of_type("progress"))
    _, c = run_inprocess("vae", {"epochs": 3, "beta": 2.0}, seed=5)  # other training: retrain
    assert c["cached"] is False


def test_an_unreadable_cache_file_is_retrained_and_replaced(tmp_path, monkeypatch) -> None:
    from labdeck.demos.run import run_inprocess

    monkeypatch.setenv("LABDECK_CACHE", str(tmp_path))
    _, a = run_inprocess("vae", {"epochs": 2}, seed=6)
    (path,) = (tmp_path / "demos").glob("vae-*.pt")
    path.write_bytes(b"not a torch file")
    _, b = run_inprocess("vae", {"epochs": 2}, seed=6)
    assert b["cached"] is False and b["metrics"] == a["metrics"]
    _, c = run_inprocess("vae", {"epochs": 2}, seed=6)
    assert c["cached"] is True

"""The flash demo, run for real in a child process, and its algorithms against independent
computations: softmax attention written out here, and HBM traffic counted by hand."""

from __future__ import annotations

import itertools
import math

import pytest
from child_runs import child_run, exact_checks, failed, of_type

torch = pytest.importorskip("torch")


def _attention(q, k, v, causal: bool):
    """softmax(Q K^T / sqrt(d)) V in float64, with -inf above the diagonal when causal."""
    s = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if causal:
        n = q.shape[-2]
        s = s.masked_fill(torch.ones(n, n, dtype=torch.bool).triu(1), float("-inf"))
    return torch.softmax(s, dim=-1) @ v


@pytest.mark.parametrize(("n", "d", "block", "causal"), [(37, 8, 5, True), (64, 16, 64, False)])
def test_tiled_algorithms_equal_attention_and_count_their_traffic(n, d, block, causal) -> None:
    from labdeck.demos.flash import Hbm, flash_fa1, flash_fa2, naive_attention

    gen = torch.Generator().manual_seed(1)
    q, k, v = (torch.randn(2, n, d, generator=gen, dtype=torch.float64) for _ in range(3))
    want = _attention(q, k, v, causal)
    tiles = math.ceil(n / block)
    for algo in (flash_fa1, flash_fa2):
        hbm = Hbm(Q=q, K=k, V=v)
        out, flops = algo(hbm, causal, block)
        assert (out - want).abs().max().item() < 1e-12
        # tiles kept: all T^2, or the T (T + 1) / 2 on and below the diagonal
        kept = tiles * (tiles + 1) // 2 if causal else tiles * tiles
        sizes = [min(block, n - s) for s in range(0, n, block)]
        pairs = [(a, b) for i, a in enumerate(sizes) for j, b in enumerate(sizes)]
        if causal:
            pairs = [(a, b) for idx, (a, b) in enumerate(pairs) if idx % tiles <= idx // tiles]
        assert len(pairs) == kept
        assert flops == sum(4 * a * b * d for a, b in pairs)
        if algo is flash_fa2:  # Q once, K and V once per kept tile, O and the LSE out once
            assert hbm.reads == n * d + sum(2 * b * d for _, b in pairs)
            assert hbm.writes == n * d + n and hbm.extra == n
        else:  # K, V once; Q_i, O_i, l_i, m_i in and O_i, l_i, m_i out per kept tile
            assert hbm.reads == 2 * n * d + sum(a * (2 * d + 2) for a, _ in pairs)
            assert hbm.writes == n * d + 2 * n + sum(a * (d + 2) for a, _ in pairs)
            assert hbm.extra == 2 * n
    hbm = Hbm(Q=q, K=k, V=v)
    assert (naive_attention(hbm, causal) - want).abs().max().item() < 1e-12
    assert (hbm.reads, hbm.writes, hbm.extra) == (
        3 * n * d + 2 * n * n,
        2 * n * n + n * d,
        2 * n * n,
    )


def test_flash_quick_meets_every_check() -> None:
    events, out = child_run("flash")
    assert not failed(out.checks), failed(out.checks)
    assert len(exact_checks(out)) == 7
    m = out.metrics
    assert m["max_err_float64"] <= 1e-12 and m["max_err_float32"] <= 1e-5
    assert m["unsafe_softmax_nan"] is True and m["large_score_max"] > 88.7  # e^s overflows
    n, d = 512, 64
    assert m["naive_hbm_accesses"] == 4 * n * d + 4 * n * n
    assert m["naive_flops"] == m["fa1_flops"] == m["fa2_flops"] == 4 * n * n * d
    table = next(t for t in of_type(events, "table") if t["title"].startswith("HBM"))
    blocks = [r[0] for r in table["rows"]]
    assert blocks == [8, 16, 32, 64, 128, 256]
    fa2 = [r[5] for r in table["rows"]]
    assert all(a > b for a, b in itertools.pairwise(fa2))  # bigger tiles, less traffic
    trace = next(t for t in of_type(events, "table") if t["title"].startswith("online softmax"))
    assert len(trace["rows"]) == n // 128 and float(trace["rows"][0][3]) == 0.0
    assert {"naive", "FA1", "FA2"} <= {s["name"] for s in of_type(events, "series")}


def test_causal_small_tiles_skip_work_and_stay_exact() -> None:
    n, b, d = 96, 3, 16
    _, out = child_run("flash", seq_len=n, block=b, d_head=d, causal=True)
    assert not failed(exact_checks(out)), failed(exact_checks(out))
    m = out.metrics
    assert m["fa1_flops"] < m["naive_flops"] == 4 * n * n * d
    assert m["fa2_flops"] == m["fa1_flops"] == sum(4 * b * (b * (i + 1)) * d for i in range(n // b))
    kept_rows = sum(n - b * j for j in range(n // b))  # query rows that meet key block j
    assert m["fa1_hbm_accesses"] == 3 * n * d + 2 * n + kept_rows * (3 * d + 4)
    assert m["fa1_hbm_accesses"] > m["naive_hbm_accesses"] == 4 * n * d + 4 * n * n
    # small tiles move more data than the standard algorithm: the quality expectation notes it
    assert out.checks["fa1_fewer_hbm_accesses_than_naive"]["passed"] is None
    assert out.checks["fa1_fewer_hbm_accesses_than_naive"]["changed"].startswith("changed:")


def test_the_flashattention_cards_link_the_demo_and_name_its_point() -> None:
    from test_demo_links import _cards  # the shipped cards (skips without content/)

    from labdeck.demos import notice, registry

    cards = {card["id"]: card for _, card in _cards()}
    demo = registry.get("flash")
    for key in ("b10.7", "b5.3", "i5.3", "i2.6"):
        assert "flash" in cards[key].get("demos", []), key
        point = notice.card_point(demo, cards[key]["key_points"])
        assert point is not None and "FlashAttention" in point, (key, point)


def test_too_many_tiles_is_refused_before_a_run() -> None:
    from labdeck.demos import registry

    with pytest.raises(registry.InvalidParameter) as info:
        registry.validate("flash", {"seq_len": 2048, "block": 16})
    assert info.value.param == "block" and "got 128" in str(info.value)
    assert registry.validate("flash", {"seq_len": 2048, "block": 32})["block"] == 32

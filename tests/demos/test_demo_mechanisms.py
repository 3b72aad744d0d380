"""Exactness of the hand-written mechanisms against references (fast, no training)."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

from labdeck.demos import attention, ctc, ddim, vae  # noqa: E402

# ----------------------------------------------------------------------------- attention


def test_attention_equals_sdpa_for_every_mask() -> None:
    gen = torch.Generator().manual_seed(1)
    for length, d_k in ((1, 4), (7, 8), (16, 32)):
        q, k, v = (torch.randn(3, 2, length, d_k, generator=gen) for _ in range(3))
        lengths = torch.tensor([length, max(1, length // 2), 1])
        pad = attention.padding_mask(lengths, length)
        causal = attention.causal_mask(length)
        random = torch.rand(3, 2, length, length, generator=gen) > 0.5  # some rows all False
        for mask in (None, pad, causal, pad & causal, random):
            ours, w = attention.attention(q, k, v, mask)
            ref = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
            assert (ours - ref).abs().max().item() <= 1e-5
            assert not torch.isnan(ours).any()
        ours, _ = attention.attention(q, k, v, causal)
        ref = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        assert (ours - ref).abs().max().item() <= 1e-5


def test_fully_masked_row_zero_like_sdpa_while_naive_softmax_is_nan() -> None:
    info = attention.fully_masked_row_demo(torch.Generator().manual_seed(0))
    assert info["ours_zero"] and info["sdpa_zero"] and info["others_equal"]
    assert info["naive_nan"]


def test_weights_are_a_distribution_with_zero_on_masked_keys() -> None:
    gen = torch.Generator().manual_seed(2)
    q, k, v = (torch.randn(2, 1, 6, 4, generator=gen) for _ in range(3))
    mask = attention.padding_mask(torch.tensor([6, 3]), 6) & attention.causal_mask(6)
    _, w = attention.attention(q, k, v, mask)
    assert torch.allclose(w.sum(-1), torch.ones(2, 1, 6))
    assert (w[~mask.expand_as(w)] == 0).all()


def test_multi_head_matches_torch_mha_and_bert_with_the_same_weights() -> None:
    torch.manual_seed(3)
    gen = torch.Generator().manual_seed(3)
    x = attention.embed_sentences([["a", "b", "c", "a", "d"], ["c", "a"]], 32, gen)
    lengths = torch.tensor([5, 2])
    for causal in (False, True):
        err = attention.compare_with_torch_mha(x, lengths, 4, causal=causal)
        assert err["output"] <= 1e-5 and err["weights"] <= 1e-5
        assert err["uninverted_mask"] > 1e-3 or err["uninverted_nan_rows"] > 0
    bert = attention.compare_with_bert(x, lengths, 4)
    assert max(bert.values()) <= 1e-5


def test_padding_and_future_have_exactly_zero_influence() -> None:
    torch.manual_seed(4)
    gen = torch.Generator().manual_seed(4)
    x = attention.embed_sentences([["w1", "w2", "w3", "w4"], ["w1", "w2"]], 16, gen)
    mha = attention.MultiHeadAttention(16, 2).eval()
    infl = attention.influence(mha, x, torch.tensor([4, 2]), gen)
    assert infl["padding"] == 0.0
    assert infl["future"] == 0.0
    assert infl["sanity_changed"] > 1e-3  # the perturbation itself is not a no-op


def test_without_scaling_softmax_saturates_and_its_gradient_vanishes() -> None:
    rows = attention.scaling_experiment(torch.Generator().manual_seed(5), 1024)
    big = [r for r in rows if r["d_k"] == 1024]
    scaled = next(r for r in big if r["scaled"])
    unscaled = next(r for r in big if not r["scaled"])
    assert scaled["score_std"] == pytest.approx(1.0, abs=0.1)
    assert unscaled["score_std"] == pytest.approx(32.0, rel=0.1)
    assert unscaled["max_weight"] > 0.9 > 0.5 > scaled["max_weight"]
    assert unscaled["grad_norm"] < 0.2 * scaled["grad_norm"]


# ----------------------------------------------------------------------------- vae


def test_vae_kl_closed_form() -> None:
    gen = torch.Generator().manual_seed(0)
    zero = vae.kl_analytic(torch.zeros(3, 4), torch.zeros(3, 4))
    assert torch.equal(zero, torch.zeros(3))
    mu, logvar = torch.randn(200, 4, generator=gen), torch.randn(200, 4, generator=gen) * 0.5
    # KL(N(m, s^2) || N(0, 1)) per dim = (s^2 + m^2 - 1 - log s^2) / 2
    by_hand = 0.5 * (logvar.exp() + mu**2 - 1 - logvar).sum(-1)
    assert torch.allclose(vae.kl_analytic(mu, logvar), by_hand)
    mc = vae.kl_monte_carlo(mu, logvar, 4000, gen)
    assert abs(mc.mean().item() - by_hand.mean().item()) < 0.02


# ----------------------------------------------------------------------------- ddim


def test_ddim_step_is_the_papers_update() -> None:
    abar_t, abar_p = 0.3, 0.7
    x = torch.tensor([[1.0, -2.0]], dtype=torch.float64)
    eps = torch.tensor([[0.5, 0.25]], dtype=torch.float64)
    z = torch.tensor([[-1.0, 2.0]], dtype=torch.float64)
    for eta in (0.0, 0.5, 1.0):
        x0 = (x - math.sqrt(1 - abar_t) * eps) / math.sqrt(abar_t)
        sigma = eta * math.sqrt((1 - abar_p) / (1 - abar_t) * (1 - abar_t / abar_p))
        expected = math.sqrt(abar_p) * x0 + math.sqrt(1 - abar_p - sigma**2) * eps + sigma * z
        got = ddim.ddim_step(x, eps, abar_t, abar_p, eta, z)
        assert torch.allclose(got, expected, atol=1e-14, rtol=0)
    assert ddim.check_one_step(torch.Generator().manual_seed(0)) <= 1e-12


def test_eta_one_sigma_is_the_ddpm_posterior_std() -> None:
    s = ddim.schedule()
    abar, betas = s["abar"], s["betas"]
    for t in (1, 10, 500, 999):
        sigma = math.sqrt((1 - abar[t - 1]) / (1 - abar[t]) * (1 - abar[t] / abar[t - 1]))
        beta_tilde = (1 - abar[t - 1]) / (1 - abar[t]) * betas[t]
        assert sigma**2 == pytest.approx(beta_tilde.item(), rel=1e-9)


def test_ddim_timesteps_and_call_counts() -> None:
    assert ddim.ddim_timesteps(1000) == list(range(999, -1, -1))
    assert ddim.ddim_timesteps(50)[:3] == [999, 979, 959] and ddim.ddim_timesteps(50)[-1] == 19
    model = ddim.CountingModel(ddim.NoiseMLP(16).eval())
    x = torch.randn(5, 2)
    ddim.ddim_sample(model, x, 20, 0.0)
    assert model.calls == 20


def test_ddim_eta1_over_all_steps_is_ddpm_and_eta0_is_deterministic() -> None:
    torch.manual_seed(0)
    model = ddim.CountingModel(ddim.NoiseMLP(32).double().eval())  # untrained is enough
    gen = torch.Generator().manual_seed(0)
    x_T = torch.randn(16, 2, generator=gen, dtype=torch.float64)
    noise = torch.randn(ddim.T, 16, 2, generator=gen, dtype=torch.float64)
    a = ddim.ddpm_sample(model, x_T, noise=noise)
    b = ddim.ddim_sample(model, x_T, ddim.T, 1.0, noise=noise)
    assert (a - b).abs().max().item() <= 1e-6
    assert model.calls == 2 * ddim.T
    c = ddim.ddim_sample(model, x_T, 50, 0.0, gen=torch.Generator().manual_seed(1))
    d = ddim.ddim_sample(model, x_T, 50, 0.0, gen=torch.Generator().manual_seed(2))
    assert torch.equal(c, d)
    e = ddim.ddim_sample(model, x_T, 50, 1.0, gen=torch.Generator().manual_seed(1))
    assert not torch.equal(c, e)


def test_ddim_matches_diffusers_scheduler_when_available() -> None:
    diffusers = pytest.importorskip("diffusers")
    sched = diffusers.DDIMScheduler(
        num_train_timesteps=1000,
        beta_schedule="linear",
        beta_start=1e-4,
        beta_end=0.02,
        clip_sample=False,
        set_alpha_to_one=True,
        timestep_spacing="trailing",
    )
    sched.set_timesteps(50)
    assert [int(t) for t in sched.timesteps] == ddim.ddim_timesteps(50)
    abar = sched.alphas_cumprod.double()  # diffusers builds its schedule in fp32
    assert (abar - ddim.schedule()["abar"]).abs().max().item() < 1e-6
    gen = torch.Generator().manual_seed(0)
    for eta in (0.0, 0.5, 1.0):
        for t in (int(sched.timesteps[0]), int(sched.timesteps[25]), int(sched.timesteps[-1])):
            x, eps, z = (torch.randn(8, 2, generator=gen, dtype=torch.float64) for _ in range(3))
            ref = sched.step(eps, t, x, eta=eta, variance_noise=z).prev_sample
            p = t - 1000 // 50
            a_p = abar[p].item() if p >= 0 else 1.0
            ours = ddim.ddim_step(x, eps, abar[t].item(), a_p, eta, z)
            assert (ours - ref).abs().max().item() <= 1e-5


def test_mmd_and_nearest_neighbour_distance() -> None:
    gen = torch.Generator().manual_seed(0)
    a, b = torch.randn(400, 2, generator=gen), torch.randn(400, 2, generator=gen)
    same = ddim.mmd2_unbiased(a, b, 0.5)
    shifted = ddim.mmd2_unbiased(a + 1.0, b, 0.5)
    assert abs(same) < 0.01 < shifted
    assert ddim.mean_nn_distance(a, a) == 0.0
    pool = ddim.make_pool("moons", 1000, 0)
    assert pool.shape == (1000, 2) and abs(pool.mean()) < 1e-5


# ----------------------------------------------------------------------------- ctc


def test_collapse_and_edit_distance() -> None:
    assert ctc.collapse([1, 1, 0, 1, 2, 2, 0, 0, 3]) == (1, 1, 2, 3)
    assert ctc.collapse([0, 0]) == ()
    assert ctc.edit_distance([1, 2, 3], [1, 3]) == 1
    assert ctc.edit_distance([], [1, 2]) == 2


def test_ctc_loss_equals_brute_force_enumeration() -> None:
    gen = torch.Generator().manual_seed(0)
    for t_len, classes, target in [
        (3, 3, [1]),
        (4, 3, [1, 2]),
        (4, 3, [1, 1]),
        (5, 3, [2, 2, 1]),
        (6, 3, [1]),
        (5, 4, [3, 1, 3]),
        (3, 3, [1, 1]),
        (2, 3, [1, 1]),
    ]:
        lp = (torch.randn(t_len, classes, generator=gen, dtype=torch.float64) * 2).log_softmax(-1)
        brute = ctc.brute_force_ctc(lp, target)
        torch_loss = F.ctc_loss(
            lp[:, None],
            torch.tensor([target]),
            torch.tensor([t_len]),
            torch.tensor([len(target)]),
            reduction="none",
        ).item()
        if math.isinf(brute):  # "aa" in 2 frames: impossible, needs a blank between
            assert math.isinf(torch_loss)
        else:
            assert abs(brute - torch_loss) <= 1e-6
    summary = ctc.check_against_brute_force(torch.Generator().manual_seed(1))
    assert summary["loss_err"] <= 1e-6


def test_prefix_beam_search_finds_the_most_probable_labelling() -> None:
    gen = torch.Generator().manual_seed(7)
    greedy_wrong = 0
    for i in range(25):
        t_len = 3 + i % 3
        lp = (torch.randn(t_len, 3, generator=gen, dtype=torch.float64) * 1.5).log_softmax(-1)
        table = ctc.labelling_probs(lp)
        assert sum(table.values()) == pytest.approx(1.0)
        best = max(table, key=table.get)
        found, logp = ctc.prefix_beam_search(lp, beam=64)
        assert found == best
        assert logp == pytest.approx(math.log(table[best]), abs=1e-9)
        greedy_wrong += ctc.greedy_decode(lp) != best
    assert greedy_wrong > 0  # best path is not the best labelling in general


def test_mean_reduction_divides_by_target_length_then_averages() -> None:
    red = ctc.check_mean_reduction(torch.Generator().manual_seed(0))
    assert red["err"] <= 1e-9
    assert abs(red["mean"] - red["plain_mean"]) > 1e-3


def test_synthetic_data_forces_a_pause_between_repeats() -> None:
    import numpy as np

    data = ctc.SyntheticSpeech(3, 0.5, seed=0)
    rng = np.random.default_rng(0)
    for _ in range(200):
        x, labels, frames = data.sample(rng)
        assert x.shape == (len(frames), ctc.FEATURES)
        # reading the frames (0 = silence) with the CTC collapse gives back the labels
        assert list(ctc.collapse(frames)) == labels

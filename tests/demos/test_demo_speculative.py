"""The speculative-decoding demo, run for real in a child process, and its sampler against
independent computations: exact first-token frequencies, greedy Markov chains worked out here,
n-gram counts by hand, and the chi-squared p-value's closed form for two degrees of freedom."""

from __future__ import annotations

import math
import random
from collections import Counter

import pytest
from child_runs import child_run, exact_checks, failed, of_type

pytest.importorskip("torch")


def _tables(seed: int, vocab: int) -> list[list[list[float]]]:
    gen = random.Random(seed)
    out = []
    for _ in range(2):
        rows = [[gen.random() + 0.05 for _ in range(vocab)] for _ in range(vocab)]
        out.append([[x / sum(r) for x in r] for r in rows])
    return out


@pytest.mark.parametrize(("gamma", "temperature"), [(1, 1.0), (3, 0.6), (6, 2.0)])
def test_first_token_follows_the_target_whatever_the_draft(gamma, temperature) -> None:
    from labdeck.demos.speculative import MarkovTable, Stats, speculative

    p, q = _tables(7, 5)
    target, draft = MarkovTable(p), MarkovTable(q)
    # the target's next-token distribution after token 2, tempered by hand
    w = [x ** (1 / temperature) for x in p[2]]
    want = [x / sum(w) for x in w]
    rng, stats, n = random.Random(3), Stats(), 20000
    firsts = Counter(
        speculative(target, draft, [2], 1, gamma, temperature, rng, stats)[0] for _ in range(n)
    )
    for x, prob in enumerate(want):  # each frequency within 4.5 standard errors
        assert abs(firsts[x] / n - prob) <= 4.5 * math.sqrt(prob * (1 - prob) / n), (x, firsts)
    assert stats.target_calls == n  # one token asked for: one target call each


def test_planted_mistakes_change_the_first_token_distribution() -> None:
    from labdeck.demos.speculative import MarkovTable, Stats, speculative

    p, q = _tables(7, 5)
    w = p[2]
    for mistake in ("resample_from_p", "accept_all"):
        rng, n = random.Random(3), 20000
        firsts = Counter(
            speculative(MarkovTable(p), MarkovTable(q), [2], 1, 2, 1.0, rng, Stats(), mistake)[0]
            for _ in range(n)
        )
        worst = max(abs(firsts[x] / n - w[x]) / math.sqrt(w[x] * (1 - w[x]) / n) for x in range(5))
        assert worst > 6, mistake


def test_greedy_speculative_equals_the_argmax_chain() -> None:
    from labdeck.demos.speculative import MarkovTable, Stats, speculative

    p, q = _tables(11, 6)
    chain, tok = [], 0
    for _ in range(25):  # the target's greedy chain, by hand
        tok = max(range(6), key=lambda x, t=tok: p[t][x])
        chain.append(tok)
    for gamma in (1, 4, 8):
        stats = Stats()
        out = speculative(
            MarkovTable(p), MarkovTable(q), [0], 25, gamma, 0.0, random.Random(0), stats
        )
        assert out == chain
        assert stats.accepted + stats.target_calls >= 25  # each call: accepted drafts + 1


def test_chi_squared_p_value_has_the_closed_form_for_two_degrees_of_freedom() -> None:
    from labdeck.demos.speculative import chi_squared

    observed = Counter({(0,): 30, (1,): 50, (2,): 20})
    expected = {(0,): 0.25, (1,): 0.5, (2,): 0.25}
    stat, df, pv = chi_squared(observed, expected)
    by_hand = (30 - 25) ** 2 / 25 + 0 + (20 - 25) ** 2 / 25
    assert df == 2 and stat == pytest.approx(by_hand)
    assert pv == pytest.approx(math.exp(-by_hand / 2), rel=1e-12)  # chi2_2 survival: e^(-x/2)
    impossible = Counter({(0,): 10, (3,): 1})
    assert chi_squared(impossible, {(0,): 1.0, (3,): 0.0})[2] == 0.0


def test_ngram_counts_by_hand() -> None:
    from labdeck.demos.speculative import NGramLM

    data = [0, 1, 0, 1, 2, 0, 1]  # bigrams after 0: (0,1) x3
    uni = NGramLM(data, 3, 1)
    assert uni.probs(()) == pytest.approx([4 / 10, 4 / 10, 2 / 10])  # (count + 1) / (7 + 3)
    bi = NGramLM(data, 3, 2, k=2.0)
    assert bi.probs((0,)) == pytest.approx([(0 + 0.8) / 5, (3 + 0.8) / 5, (0 + 0.4) / 5])
    tri = NGramLM(data, 3, 3, k=2.0)
    assert sum(tri.probs((1, 0))) == pytest.approx(1.0)
    assert tri.history([2, 2, 1, 0]) == (1, 0)


def test_speculative_quick_meets_every_check() -> None:
    events, out = child_run("speculative")
    assert not failed(out.checks), failed(out.checks)
    assert len(exact_checks(out)) == 4
    m = out.metrics
    assert m["acceptance_unigram"] < m["acceptance_bigram"] < m["acceptance_trigram"]
    assert m["greedy_identical"] is True and m["identity_max_err"] <= 1e-12
    assert m["chi2_p_value"] >= 1e-3 > 1e-6 >= m["chi2_p_value_resample_from_p"]
    assert m["nll_target"] < m["nll_trigram"] < m["nll_bigram"] < m["nll_unigram"]
    table = next(t for t in of_type(events, "table") if t["title"].startswith("speculative"))
    assert len(table["rows"]) == 3 * 4  # three drafts x gamma 1, 2, 4, 8
    for _draft, gamma, alpha, _, per_call, _, unchecked in table["rows"]:
        assert 1.0 <= float(per_call) <= gamma + 1 and 0 <= float(alpha) <= 1
        assert unchecked >= 0 and (gamma > 1 or unchecked == 0)  # gamma 1 wastes no draft
    chi = next(t for t in of_type(events, "table") if t["title"].startswith("chi-squared"))
    assert chi["rows"][0][:2] == ["speculative sampling", 10000]


def test_greedy_knob_keeps_every_exactness_check() -> None:
    _, out = child_run(
        "speculative", temperature=0.0, gamma=3, train_steps=30, samples=400, d_model=16
    )
    assert not failed(exact_checks(out)), failed(exact_checks(out))
    m = out.metrics
    assert m["acceptance_z"] == 0.0  # at T = 0 every beta is 0 or 1: the count matches exactly
    assert m["acceptances"] == m["acceptance_expected"]
    assert m["chi2_p_value"] == 1.0  # one possible sequence, and only it was drawn
    # resampling from p is no mistake when p is one-hot: the expectation reports the knob
    check = out.checks["chi2_rejects_resampling_from_p"]
    assert check["passed"] is None and "temperature=0.0" in check["changed"]


def test_the_speculative_decoding_cards_link_the_demo_and_name_its_point() -> None:
    from test_demo_links import _cards  # the shipped cards (skips without content/)

    from labdeck.demos import notice, registry

    cards = {card["id"]: card for _, card in _cards()}
    demo = registry.get("speculative")
    for key, word in (("b5.4", "draft model"), ("b5.5", "min(1, p(x)/q(x))")):
        assert cards[key]["demos"] == ["speculative"], key
        assert word in notice.card_point(demo, cards[key]["key_points"]), key

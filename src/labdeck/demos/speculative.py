"""Speculative decoding: a cheap draft model proposes, the target model verifies in one pass.

Leviathan et al. (2023) and Chen et al. (2023). Let p(. | prefix) be the target model (large,
slow) and q(. | prefix) the draft model (small, fast), both at the same temperature. One
iteration, from a prefix s:

    1. draft:  x_1 ~ q(. | s), x_2 ~ q(. | s x_1), ..., x_gamma          (gamma cheap calls)
    2. verify: ONE target call on s x_1 .. x_gamma gives p_1 .. p_{gamma+1}, the target's
               distributions after s, s x_1, ..., s x_1..x_gamma (a causal model scores every
               position of a sequence in one parallel pass)
    3. accept x_i, left to right, with probability min(1, p_i(x_i) / q_i(x_i));
       at the first rejection emit y ~ norm(max(0, p_i - q_i)) and stop;
       if all gamma are accepted, emit one bonus token y ~ p_{gamma+1}.

Why the output is distributed exactly as p: for one position, with beta = sum_x min(p, q)
(the acceptance probability, 1 - total variation distance),

    P(emit x) = q(x) min(1, p(x)/q(x))  +  (1 - beta) max(0, p(x) - q(x)) / sum max(0, p - q)
              = min(p(x), q(x))        +  max(0, p(x) - q(x))      (since sum max(0, p-q) = 1-beta)
              = p(x).

So every emitted token is an exact sample from the target, whatever the draft; a better draft
only makes acceptance likelier. With a per-token acceptance rate alpha (= E[beta]), and
acceptances treated as independent, one target call yields on average

    E[tokens per target call] = (1 - alpha^(gamma+1)) / (1 - alpha)

which grows with gamma towards 1 / (1 - alpha). Decoding is memory-bound, so a target call on
gamma + 1 positions costs about as much as on one: fewer target calls means less time.
At temperature 0 both distributions are one-hot (argmax) and the same rule becomes assisted
generation's greedy check: keep draft tokens while they equal the target's argmax, then emit
the target's own token; the output is then identical to greedy decoding with the target alone.

The target here is a 2-layer character Transformer trained in the demo on the text labdeck
ships (the decoding demo's model); the drafts are character n-gram models counted from the same
text (unigram, bigram, trigram: draft quality rises with the order). The run checks the identity
above on every (p, q) pair it meets, that greedy speculative output equals target greedy
decoding, and, on a 4-token vocabulary with exactly known Markov-chain target and draft, that
the sequences it samples follow the target's distribution (chi-squared goodness of fit); two
common mistakes (on rejection resampling from p instead of the residual; accepting every draft
token) fail that test.
"""

from __future__ import annotations

import math
import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F

from labdeck.demos import optim
from labdeck.demos.cache import load_or_train
from labdeck.demos.decoding import CONTEXT, PROMPTS, CharTransformer, load_text
from labdeck.demos.events import at_least, at_most, exact, is_true

GAMMAS = (1, 2, 4, 8)  # draft lengths of the sweep (the --gamma knob is at most 8)
GAMMA_MAX = 8
LR = 2e-2  # AdamW peak learning rate of the target (one-cycle schedule)
ORDERS = {"unigram": 1, "bigram": 2, "trigram": 3}
CHI_VOCAB, CHI_LEN = 4, 3  # the chi-squared test: 4 tokens, sequences of 3 (64 cells)
P_VALUE_MIN = 1e-3  # a correct sampler fails this with probability 0.001 (seeded: reproducible)

Dist = list[float]


# ----------------------------------------------------------------------------- models


class Model:
    """A language model that gives, in one call, the next-token distributions after each of the
    last ``n`` prefixes of ``seq`` (seq[:len-n+1], ..., seq), at a temperature. Subclasses give
    ``logp`` for one prefix (a list of log-probabilities) or override ``logp_many``; a model
    that only looks at a bounded history names it in ``history``, so rows are computed once."""

    def logp(self, prefix: Sequence[int]) -> Dist:
        raise NotImplementedError

    def logp_many(self, seq: Sequence[int], n: int) -> list[Dist]:
        return [self.logp(seq[:end]) for end in range(len(seq) - n + 1, len(seq) + 1)]

    def history(self, prefix: Sequence[int]) -> tuple[int, ...] | None:
        return None  # None: the whole prefix matters (no memo)

    def __call__(self, seq: Sequence[int], n: int, temperature: float) -> list[Dist]:
        ends = range(len(seq) - n + 1, len(seq) + 1)
        keys = [self.history(seq[:end]) for end in ends]
        if None in keys:
            return [tempered(row, temperature) for row in self.logp_many(seq, n)]
        memo: dict[Any, Dist] = self.__dict__.setdefault("_memo", {})
        for key in keys:
            if (key, temperature) not in memo:
                memo[key, temperature] = tempered(self.logp(key or ()), temperature)
        return [memo[key, temperature] for key in keys]


def tempered(logp: Dist, temperature: float) -> Dist:
    """softmax(log p / T); T = 0 is the limit, a one-hot on the argmax (the first on ties)."""
    if temperature == 0:
        best = max(range(len(logp)), key=logp.__getitem__)
        return [1.0 if i == best else 0.0 for i in range(len(logp))]
    top = max(logp)
    e = [math.exp((z - top) / temperature) for z in logp]
    total = sum(e)
    return [x / total for x in e]


class TransformerLM(Model):
    """The target: a causal Transformer scores all positions of ``seq`` in one forward pass."""

    def __init__(self, net: CharTransformer, device: torch.device) -> None:
        self.net, self.device = net, device

    @torch.no_grad()
    def logp_many(self, seq: Sequence[int], n: int) -> list[Dist]:
        logits = self.net(torch.tensor([list(seq)], device=self.device))[0, -n:]
        rows: list[Dist] = logits.double().log_softmax(-1).cpu().tolist()
        return rows

    def logp(self, prefix: Sequence[int]) -> Dist:
        return self.logp_many(prefix, 1)[0]


class NGramLM(Model):
    """A character n-gram model, counted: p_n(x | h) = (c(h x) + k p_{n-1}(x | h')) / (c(h) + k),
    h' = h without its first character, p_1(x) = (c(x) + 1) / (N + V) (add-one unigram)."""

    def __init__(self, data: Sequence[int], vocab: int, order: int, k: float = 2.0) -> None:
        self.vocab, self.order, self.k = vocab, order, k
        self.counts = [
            Counter(tuple(data[i : i + m]) for i in range(len(data) - m + 1))
            for m in range(1, order + 1)
        ]

    def probs(self, h: tuple[int, ...]) -> Dist:
        if not h:
            c1, total = self.counts[0], sum(self.counts[0].values())
            return [(c1[(x,)] + 1) / (total + self.vocab) for x in range(self.vocab)]
        lower = self.probs(h[1:])
        c = self.counts[len(h)]
        ch = sum(c[(*h, x)] for x in range(self.vocab))
        return [(c[(*h, x)] + self.k * lower[x]) / (ch + self.k) for x in range(self.vocab)]

    def history(self, prefix: Sequence[int]) -> tuple[int, ...]:
        ctx = self.order - 1
        return tuple(prefix[max(0, len(prefix) - ctx) :]) if ctx else ()

    def logp(self, prefix: Sequence[int]) -> Dist:
        return [math.log(x) for x in self.probs(self.history(prefix))]


class MarkovTable(Model):
    """An exactly known model for the chi-squared test: p(x_t | x_{t-1}) = table[x_{t-1}][x_t]."""

    def __init__(self, table: list[Dist]) -> None:
        self.table = table

    def history(self, prefix: Sequence[int]) -> tuple[int, ...]:
        return (prefix[-1],)

    def logp(self, prefix: Sequence[int]) -> Dist:
        return [math.log(x) for x in self.table[prefix[-1]]]


# ----------------------------------------------------------------------------- the algorithm


def sample(dist: Dist, rng: random.Random) -> int:
    u, acc = rng.random(), 0.0
    for i, x in enumerate(dist):
        acc += x
        if u < acc:
            return i
    return max(i for i, x in enumerate(dist) if x > 0)  # u above a sum rounded below 1


def residual(p: Dist, q: Dist) -> Dist:
    """norm(max(0, p - q)); where p <= q everywhere (p == q up to rounding) fall back to p."""
    r = [max(0.0, a - b) for a, b in zip(p, q, strict=True)]
    total = sum(r)
    return [x / total for x in r] if total > 0 else list(p)


class Stats:
    def __init__(self) -> None:
        self.target_calls = self.tokens = 0
        self.accepted = self.rejected = self.proposed = 0
        self.pairs: list[tuple[Dist, Dist]] = []  # every (p_i, q_i) a draft token was tested on


def speculative(
    target: Model,
    draft: Model,
    prompt: Sequence[int],
    n_new: int,
    gamma: int,
    temperature: float,
    rng: random.Random,
    stats: Stats,
    mistake: str | None = None,
) -> list[int]:
    """``n_new`` tokens by speculative sampling. ``mistake`` plants a known bug for the test's
    power: "resample_from_p" (on rejection draw from p, not the residual) or "accept_all"."""
    seq = list(prompt)
    while len(seq) - len(prompt) < n_new:
        xs: list[int] = []
        qs: list[Dist] = []
        for _ in range(gamma):  # 1. the draft proposes gamma tokens, one cheap call each
            q = draft(seq + xs, 1, temperature)[0]
            xs.append(sample(q, rng))
            qs.append(q)
        ps = target(seq + xs, gamma + 1, temperature)  # 2. one target call: p_1 .. p_{gamma+1}
        stats.target_calls += 1
        stats.proposed += gamma
        out: list[int] = []
        for i, x in enumerate(xs):  # 3. accept with min(1, p/q), left to right
            stats.pairs.append((ps[i], qs[i]))
            if mistake == "accept_all" or rng.random() < min(1.0, ps[i][x] / qs[i][x]):
                out.append(x)
                stats.accepted += 1
                continue
            stats.rejected += 1
            fix = ps[i] if mistake == "resample_from_p" else residual(ps[i], qs[i])
            out.append(sample(fix, rng))  # the first rejection ends the iteration
            break
        else:
            out.append(sample(ps[gamma], rng))  # all accepted: a bonus token from p
        seq += out
    new = seq[len(prompt) : len(prompt) + n_new]
    stats.tokens += len(new)
    return new


def autoregressive(
    model: Model, prompt: Sequence[int], n_new: int, temperature: float, rng: random.Random
) -> list[int]:
    """The target alone: one call per token."""
    seq = list(prompt)
    for _ in range(n_new):
        seq.append(sample(model(seq, 1, temperature)[0], rng))
    return seq[len(prompt) :]


def identity_error(pairs: Sequence[tuple[Dist, Dist]]) -> tuple[float, float]:
    """max |min(p, q) + (1 - beta) norm(max(0, p - q)) - p| and the mean beta over the pairs."""
    err, betas = 0.0, []
    for p, q in pairs:
        beta = sum(min(a, b) for a, b in zip(p, q, strict=True))
        betas.append(beta)
        if beta >= 1.0:  # p == q: nothing is ever rejected, the residual is never used
            continue
        r = residual(p, q)
        err = max(
            err, max(abs(min(a, b) + (1 - beta) * c - a) for a, b, c in zip(p, q, r, strict=True))
        )
    return err, sum(betas) / max(1, len(betas))


def pair_betas(pairs: Sequence[tuple[Dist, Dist]]) -> list[float]:
    return [sum(min(a, b) for a, b in zip(p, q, strict=True)) for p, q in pairs]


def acceptance_z(pairs: Sequence[tuple[Dist, Dist]], accepted: int) -> float:
    """(accepted - sum beta) / sqrt(sum beta (1 - beta)): each tested draft token is accepted
    with probability exactly beta = sum min(p, q), so this is about N(0, 1) (0 when every beta
    is 0 or 1, as at temperature 0, where the count must match exactly)."""
    betas = pair_betas(pairs)
    mean, var = sum(betas), sum(b * (1 - b) for b in betas)
    if var < 1e-12:
        return 0.0 if abs(accepted - mean) < 1e-6 else math.inf
    return (accepted - mean) / math.sqrt(var)


def expected_tokens_per_call(alpha: float, gamma: int) -> float:
    return float(gamma + 1) if alpha >= 1 else (1 - alpha ** (gamma + 1)) / (1 - alpha)


# ----------------------------------------------------------------------------- chi-squared


def chi_squared(observed: Counter[tuple[int, ...]], expected: dict[tuple[int, ...], float]) -> Any:
    """Pearson's statistic over the cells (those expecting < 5 pooled), df and the p-value
    P(chi2_df >= statistic) = Q(df / 2, statistic / 2), the regularised upper gamma function."""
    n = sum(observed.values())
    big = {c for c, e in expected.items() if e * n >= 5}
    cells = [(observed[c], expected[c] * n) for c in big]
    rest_e = n - sum(e for _, e in cells)
    if rest_e > 1e-9 * n:
        cells.append((n - sum(o for o, _ in cells), rest_e))
    stray = sum(o for c, o in observed.items() if expected.get(c, 0.0) == 0.0)
    stat = sum((o - e) ** 2 / e for o, e in cells)
    df = len(cells) - 1
    if stray:  # a sequence the target gives probability 0: impossible under p
        return math.inf, df, 0.0
    if df == 0:
        return stat, 0, 1.0 if stat == 0 else 0.0
    pv = torch.special.gammaincc(
        torch.tensor(df / 2, dtype=torch.float64), torch.tensor(stat / 2, dtype=torch.float64)
    ).item()
    return stat, df, pv


def chi_squared_test(
    gamma: int, temperature: float, samples: int, seed: int, mistake: str | None
) -> tuple[float, int, float]:
    """Sample ``samples`` sequences of CHI_LEN tokens from token 0 by speculative decoding with
    exactly known Markov tables (the target p and a different draft q, both random), and test
    them against the exact target probabilities prod_t p_T(x_t | x_{t-1})."""
    gen = random.Random(seed)
    tables = []
    for _ in range(2):  # Dirichlet(1, ..., 1) rows: normalised exponential draws
        rows = [[-math.log(1 - gen.random()) for _ in range(CHI_VOCAB)] for _ in range(CHI_VOCAB)]
        tables.append([[x / sum(r) for x in r] for r in rows])
    target, draft = MarkovTable(tables[0]), MarkovTable(tables[1])
    step = [tempered([math.log(x) for x in row], temperature) for row in tables[0]]
    expected: dict[tuple[int, ...], float] = {}
    for cell in _all_sequences(CHI_VOCAB, CHI_LEN):
        prob, prev = 1.0, 0
        for x in cell:
            prob, prev = prob * step[prev][x], x
        expected[cell] = prob
    rng, stats = random.Random(seed + 1), Stats()
    observed = Counter(
        tuple(speculative(target, draft, [0], CHI_LEN, gamma, temperature, rng, stats, mistake))
        for _ in range(samples)
    )
    stat, df, pv = chi_squared(observed, expected)
    return stat, df, pv


def _all_sequences(vocab: int, length: int) -> list[tuple[int, ...]]:
    out: list[tuple[int, ...]] = [()]
    for _ in range(length):
        out = [(*s, x) for s in out for x in range(vocab)]
    return out


# ----------------------------------------------------------------------------- the demo


def train_target(
    data: torch.Tensor, steps: int, gen: torch.Generator, emit: Any
) -> Callable[[CharTransformer], dict[str, Any]]:
    def train(model: CharTransformer) -> dict[str, Any]:
        dev = next(model.parameters()).device
        opt = optim.AdamW(model.parameters(), lr=LR, weight_decay=0.01)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, LR, total_steps=steps, pct_start=0.1)
        losses = []
        for step in range(1, steps + 1):
            start = torch.randint(0, len(data) - CONTEXT - 1, (16,), generator=gen)
            win = torch.stack([data[s : s + CONTEXT + 1] for s in start.tolist()]).to(dev)
            logits = model(win[:, :-1])  # teacher forcing over 16 windows of 64 characters
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), win[:, 1:].reshape(-1))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            losses.append(loss.item())
            emit.progress(step, steps, "training the target")
        return {"losses": losses}

    return train


def _nll(model: Model, data: list[int], window: int = CONTEXT) -> float:
    """Mean nats/char of ``data`` under ``model``, in non-overlapping windows."""
    total, count = 0.0, 0
    for s in range(0, len(data) - 1, window - 1):
        chunk = data[s : s + window]
        if len(chunk) < 2:
            break
        rows = model.logp_many(chunk[:-1], len(chunk) - 1)
        total -= sum(row[x] for row, x in zip(rows, chunk[1:], strict=True))
        count += len(chunk) - 1
    return total / count


def run(ctx: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    p, emit, dev = ctx.params, ctx.emit, ctx.device
    gamma, temp = p["gamma"], p["temperature"]
    text = load_text()
    chars = sorted(set(text))
    stoi = {c: i for i, c in enumerate(chars)}
    ids = [stoi[c] for c in text]
    vocab = len(chars)

    # --- the models ---------------------------------------------------------------------------
    gen = torch.Generator().manual_seed(ctx.seed)
    net = CharTransformer(vocab, p["d_model"], 4).to(dev)
    t0 = time.perf_counter()
    extra = load_or_train(
        ctx,
        {"d_model": p["d_model"], "train_steps": p["train_steps"]},
        net,
        train_target(torch.tensor(ids), p["train_steps"], gen, emit),
    )
    train_seconds = time.perf_counter() - t0
    losses = extra["losses"]
    every = max(1, len(losses) // 50)
    xs = list(range(every, len(losses) + 1, every))
    emit.series("target training loss", xs, [losses[x - 1] for x in xs], "step", "nats/char")
    net.eval().double()  # float64 so greedy comparisons never hinge on float32 near-ties
    target = TransformerLM(net, dev)
    drafts = {name: NGramLM(ids, vocab, order) for name, order in ORDERS.items()}
    n_params = sum(x.numel() for x in net.parameters())
    nll = {"target": _nll(target, ids), **{k: _nll(m, ids) for k, m in drafts.items()}}
    emit.table(
        "models (NLL of the shipped text, nats/char)",
        ["model", "kind", "size", "NLL"],
        [["target", f"2-layer Transformer, d={p['d_model']}", f"{n_params} weights", nll["target"]]]
        + [
            [k, f"{o}-gram counts", f"{len(m.counts[-1])} {o}-grams", nll[k]]
            for (k, m), o in zip(drafts.items(), ORDERS.values(), strict=True)
        ],
    )

    # --- acceptance and tokens per target call, per draft and gamma ---------------------------
    gammas = sorted({*GAMMAS, gamma})
    rng = random.Random(ctx.seed)
    rows: list[list[Any]] = []
    series: dict[str, list[float]] = {k: [] for k in drafts}
    all_pairs: list[tuple[Dist, Dist]] = []
    accepted_total = 0
    at_knob: dict[str, dict[str, float]] = {}
    sample_text = ""
    total = len(drafts) * len(gammas)
    for step, (name, g) in enumerate(((n, g) for n in drafts for g in gammas), start=1):
        stats = Stats()
        outs = []
        for prompt in PROMPTS:
            enc = [stoi[c] for c in prompt]
            n_new = CONTEXT - GAMMA_MAX - len(enc)
            outs.append(speculative(target, drafts[name], enc, n_new, g, temp, rng, stats))
        tested = stats.accepted + stats.rejected
        alpha = stats.accepted / max(1, tested)
        _, beta = identity_error(stats.pairs)
        per_call = stats.tokens / stats.target_calls
        all_pairs += stats.pairs
        accepted_total += stats.accepted
        series[name].append(per_call)
        rows.append(
            [
                name,
                g,
                f"{alpha:.3f}",
                f"{beta:.3f}",
                f"{per_call:.2f}",
                f"{expected_tokens_per_call(beta, g):.2f}",
                stats.proposed - tested,
            ]
        )
        if g == gamma:
            at_knob[name] = {"alpha": alpha, "beta": beta, "per_call": per_call}
            if name == "trigram":
                sample_text = PROMPTS[0] + "".join(chars[i] for i in outs[0])
        emit.progress(step, total, "speculative sampling")
    emit.table(
        f"speculative sampling at temperature {temp:g} ({len(PROMPTS)} prompts x ~45 "
        "characters each): acceptance, and tokens per target call (the target alone: 1.00)",
        [
            "draft",
            "gamma",
            "acceptance rate",
            "mean beta = sum min(p,q)",
            "tokens / target call",
            "(1 - a^(g+1)) / (1 - a)",
            "drafts never checked",
        ],
        rows,
    )
    for name in drafts:
        emit.series(
            name,
            gammas,
            series[name],
            "gamma (draft length)",
            "tokens / target call",
            group="per call",
        )
    emit.text(f"a speculative sample (trigram draft, gamma {gamma}):\n{sample_text}")
    plain = autoregressive(target, [stoi[c] for c in PROMPTS[1]], 40, temp, rng)
    emit.text(
        f"the target alone, one call per token:\n{PROMPTS[1]}{''.join(chars[i] for i in plain)}"
    )

    # --- exactness: the identity, greedy equality, the chi-squared test ------------------------
    id_err, _ = identity_error(all_pairs)
    z = acceptance_z(all_pairs, accepted_total)
    greedy_same, greedy_calls, greedy_tokens = True, 0, 0
    for prompt in PROMPTS[:3]:
        enc = [stoi[c] for c in prompt]
        n_new = CONTEXT - GAMMA_MAX - len(enc)
        alone = autoregressive(target, enc, n_new, 0.0, rng)
        for draft in drafts.values():
            stats = Stats()
            spec = speculative(target, draft, enc, n_new, gamma, 0.0, rng, stats)
            greedy_same &= spec == alone
            greedy_calls, greedy_tokens = greedy_calls + stats.target_calls, greedy_tokens + n_new
    emit.progress(1, 4, "chi-squared tests")
    chi_rows, chi = [], {}
    for i, (label, mistake) in enumerate(
        (
            ("speculative sampling", None),
            ("bug: on rejection resample from p", "resample_from_p"),
            ("bug: accept every draft token", "accept_all"),
        ),
        start=2,
    ):
        n = p["samples"] if mistake is None else max(100, p["samples"] // 4)
        stat, df, pv = chi_squared_test(gamma, temp, n, ctx.seed, mistake)
        chi[mistake or "correct"] = pv
        chi_rows.append([label, n, f"{stat:.1f}", df, f"{pv:.3g}"])
        emit.progress(i, 4, "chi-squared tests")
    emit.table(
        f"chi-squared goodness of fit to the target: sequences of {CHI_LEN} "
        f"tokens over a {CHI_VOCAB}-token vocabulary (exact Markov-chain target and draft), "
        f"gamma {gamma}, temperature {temp:g}; cells expecting < 5 pooled",
        ["sampler", "sequences", "chi2", "df", "p-value"],
        chi_rows,
    )
    emit.text(
        f"min(p, q) + (1 - beta) norm(max(0, p - q)) = p on all {len(all_pairs)} (p, q) pairs "
        f"met (max |diff| {id_err:.1e}). At temperature 0 speculative decoding reproduced greedy "
        f"decoding with the target {'exactly' if greedy_same else 'NOT exactly'} for every "
        f"draft, with {greedy_calls} target calls for {greedy_tokens} tokens."
    )

    knob = at_knob
    metrics: dict[str, Any] = {
        "train_seconds": train_seconds,
        "target_params": n_params,
        **{f"nll_{k}": v for k, v in nll.items()},
        **{f"acceptance_{k}": v["alpha"] for k, v in knob.items()},
        **{f"beta_{k}": v["beta"] for k, v in knob.items()},
        **{f"tokens_per_call_{k}": v["per_call"] for k, v in knob.items()},
        "identity_max_err": id_err,
        "pairs_checked": len(all_pairs),
        "acceptances": accepted_total,
        "acceptance_expected": sum(b for b in pair_betas(all_pairs)),
        "acceptance_z": z,
        "greedy_identical": greedy_same,
        "greedy_tokens_per_call": greedy_tokens / greedy_calls,
        "chi2_p_value": chi["correct"],
        "chi2_p_value_resample_from_p": chi["resample_from_p"],
        "chi2_p_value_accept_all": chi["accept_all"],
    }
    order = [knob[k]["alpha"] for k in ORDERS]
    best = knob["trigram"]
    checks = {
        "exact_min_plus_residual_is_p": exact(at_most(id_err, 1e-12)),
        "exact_greedy_equals_target_greedy": exact(
            is_true(greedy_same, f"temperature 0, gamma {gamma}: every draft and prompt")
        ),
        "exact_output_follows_target_chi2": exact(at_least(chi["correct"], P_VALUE_MIN)),
        "exact_acceptances_match_sum_of_beta": exact(at_most(abs(z), 4.0)),
        "acceptance_rises_with_draft_quality": is_true(
            order[0] < order[1] < order[2], "unigram < bigram < trigram"
        ),
        "trigram_draft_over_2_tokens_per_call": at_least(best["per_call"], 2.0),
        "target_better_than_every_draft": at_most(nll["target"] - min(nll[k] for k in drafts), 0.0),
        "chi2_rejects_resampling_from_p": at_most(chi["resample_from_p"], 1e-6),
        "chi2_rejects_accepting_all": at_most(chi["accept_all"], 1e-6),
    }
    return metrics, checks

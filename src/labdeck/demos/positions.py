"""Position encodings: sinusoidal, learned, RoPE, ALiBi, position interpolation, extrapolation.

Self-attention is permutation-equivariant: without position information a token cannot tell
which key came just before it. Ways to add it:

    sinusoidal (Vaswani et al., 2017)  PE(m, 2i) = sin(m w_i), PE(m, 2i+1) = cos(m w_i),
                                       w_i = 10000^(-2i/d), added to the input embedding.
        For each pair, [sin, cos]((m + k) w) = R(k w) [sin, cos](m w) with R a 2x2 rotation:
        a fixed offset is a linear map that does not depend on m.
    learned absolute                   a trained table P[m] added to the input; rows beyond the
                                       training length are never trained.
    RoPE (Su et al., 2021)             rotate each pair (q_2i, q_2i+1) of the query at position
                                       m by the angle m theta_i (theta_i = 10000^(-2i/d)), and
                                       the key at n by n theta_i. Then
        <R(m theta) q, R(n theta) k> = <q, R((n - m) theta) k>:  the score depends only on m - n.
    ALiBi (Press et al., 2022)         no embedding; add -s_h (m - n) to head h's score for key n
                                       <= m, with geometric slopes s_h = 2^(-8h/H), h = 1..H.
    position interpolation (Chen et al., 2023)  to run a RoPE model trained on length L at
                                       L' > L, use positions m L / L' so every angle stays in the
                                       trained range (the paper then fine-tunes briefly).

The experiment: a one-layer Transformer learns an order-2 Markov chain (the next token depends
on the current and the previous token, so the model must find the previous token: a purely
relative rule). It is trained on short sequences and evaluated on longer ones; the loss is
compared with the true conditional entropy of the chain (the best possible) and with an order-1
baseline (what a model that cannot find the previous token can reach).
"""

from __future__ import annotations

import copy
import math
import time
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from labdeck.demos import optim
from labdeck.demos.events import at_least, at_most, exact

ENCODINGS = ("none", "sinusoidal", "learned", "rope", "alibi")


# ----------------------------------------------------------------------------- the encodings


def sinusoidal(length: int, d: int, dtype: torch.dtype = torch.float32) -> Tensor:
    """(length, d) table: PE[m, 2i] = sin(m w_i), PE[m, 2i+1] = cos(m w_i)."""
    m = torch.arange(length, dtype=torch.float64)[:, None]
    w = 10000.0 ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)
    pe = torch.zeros(length, d, dtype=torch.float64)
    pe[:, 0::2], pe[:, 1::2] = torch.sin(m * w), torch.cos(m * w)
    return pe.to(dtype)


def rope_angles(positions: Tensor, d: int) -> Tensor:
    """(len, d/2) angles m theta_i, theta_i = 10000^(-2i/d); ``positions`` may be fractional."""
    theta = 10000.0 ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)
    return positions.double()[:, None] * theta


def rope(x: Tensor, positions: Tensor) -> Tensor:
    """Rotate each pair (x_2i, x_2i+1) of x (..., len, d) by the angle m theta_i."""
    ang = rope_angles(positions, x.shape[-1]).to(x.dtype)
    cos, sin = ang.cos(), ang.sin()
    x1, x2 = x[..., 0::2], x[..., 1::2]
    out = torch.empty_like(x)
    out[..., 0::2] = x1 * cos - x2 * sin
    out[..., 1::2] = x1 * sin + x2 * cos
    return out


def alibi_slopes(heads: int) -> Tensor:
    """s_h = 2^(-8h/H) for h = 1..H (the paper's geometric sequence)."""
    return torch.tensor([2.0 ** (-8.0 * h / heads) for h in range(1, heads + 1)])


def alibi_bias(heads: int, length: int) -> Tensor:
    """(H, len, len): -s_h (m - n) for keys n <= m (the causal mask handles n > m)."""
    m = torch.arange(length)[:, None]
    n = torch.arange(length)[None, :]
    dist = (m - n).clamp_min(0).float()
    return -alibi_slopes(heads)[:, None, None] * dist


# ----------------------------------------------------------------------------- the model


class TinyLM(nn.Module):
    """Embedding (+ absolute encoding), one causal attention layer (+ RoPE or ALiBi), an MLP."""

    def __init__(self, vocab: int, d: int, heads: int, encoding: str, max_len: int) -> None:
        super().__init__()
        self.encoding, self.heads = encoding, heads
        self.tok = nn.Embedding(vocab, d)
        if encoding == "learned":
            self.pos = nn.Parameter(torch.randn(max_len, d) * 0.1)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))
        self.head = nn.Linear(d, vocab)
        self.position_scale = 1.0  # < 1: RoPE position interpolation

    def forward(self, idx: Tensor) -> Tensor:
        b, t = idx.shape
        x = self.tok(idx)
        d = x.shape[-1]
        if self.encoding == "sinusoidal":
            x = x + sinusoidal(t, d).to(x.device)
        elif self.encoding == "learned":
            x = x + self.pos[:t]
        h = self.heads
        q, k, v = self.qkv(self.ln1(x)).split(d, dim=-1)
        q, k, v = (z.view(b, t, h, d // h).transpose(1, 2) for z in (q, k, v))
        if self.encoding == "rope":
            pos = torch.arange(t, device=x.device) * self.position_scale
            q, k = rope(q, pos), rope(k, pos)
        att = q @ k.transpose(-2, -1) / math.sqrt(d // h)  # (B, H, t, t)
        if self.encoding == "alibi":
            att = att + alibi_bias(h, t).to(x.device)
        causal = torch.ones(t, t, dtype=torch.bool, device=x.device).triu(1)
        att = att.masked_fill(causal, float("-inf")).softmax(-1)
        x = x + self.proj((att @ v).transpose(1, 2).reshape(b, t, d))
        x = x + self.mlp(self.ln2(x))
        out: Tensor = self.head(x)
        return out


# ----------------------------------------------------------------------------- the data


class MarkovChain:
    """Order-2 chain: P(x_{t+1} | x_{t-1}, x_t) = softmax(2 g) with g ~ N(0, 1) per context."""

    def __init__(self, vocab: int, gen: torch.Generator) -> None:
        self.vocab = vocab
        self.table = (2.0 * torch.randn(vocab, vocab, vocab, generator=gen)).softmax(-1)

    def sample(self, batch: int, length: int, gen: torch.Generator) -> Tensor:
        x = torch.empty(batch, length, dtype=torch.long)
        x[:, :2] = torch.randint(0, self.vocab, (batch, 2), generator=gen)
        for t in range(2, length):
            probs = self.table[x[:, t - 2], x[:, t - 1]]
            x[:, t] = torch.multinomial(probs, 1, generator=gen)[:, 0]
        return x

    def oracle_nll(self, x: Tensor) -> float:
        """Mean -log P_true(x_{t+1} | x_{t-1}, x_t) over targets t + 1 >= 2."""
        p = self.table[x[:, :-2], x[:, 1:-1], x[:, 2:]]
        return -p.log().mean().item()

    def order1_nll(self, x: Tensor) -> float:
        """The best a model that only sees x_t can do: -log P(x_{t+1} | x_t) (marginalised
        over x_{t-1} with its empirical frequency given x_t in ``x``)."""
        pair = torch.zeros(self.vocab, self.vocab, dtype=torch.float64)
        pair.index_put_(
            (x[:, :-2].flatten(), x[:, 1:-1].flatten()),
            torch.tensor(1.0, dtype=torch.float64),
            True,
        )
        prev = pair / pair.sum(0, keepdim=True).clamp_min(1)  # P(x_{t-1} | x_t)
        cond = torch.einsum("ab,abc->bc", prev, self.table.double())  # P(x_{t+1} | x_t)
        return -cond[x[:, 1:-1], x[:, 2:]].log().mean().item()


def nll(model: TinyLM, x: Tensor) -> float:
    with torch.no_grad():
        logits = model(x[:, :-1])[:, 1:]  # predict targets 2.. from the prefix
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), x[:, 2:].reshape(-1)).item()


# ----------------------------------------------------------------------------- exactness


def exactness(heads: int, d: int, gen: torch.Generator) -> dict[str, float]:
    out: dict[str, float] = {}
    # sinusoidal vs a plain loop over the formula, and the shift-as-rotation property
    pe = sinusoidal(50, d, torch.float64)
    ref = torch.tensor(
        [
            [
                math.sin(m / 10000 ** (i / d))
                if i % 2 == 0
                else math.cos(m / 10000 ** ((i - 1) / d))
                for i in range(d)
            ]
            for m in range(50)
        ],
        dtype=torch.float64,
    )
    out["sinusoid_formula"] = (pe - ref).abs().max().item()
    k = 7
    w = 10000.0 ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)
    c, s = torch.cos(k * w), torch.sin(k * w)
    shifted = torch.empty_like(pe[:-k])  # [sin, cos](m + k) = [[c, s], [-s, c]] ... applied
    shifted[:, 0::2] = pe[:-k, 0::2] * c + pe[:-k, 1::2] * s
    shifted[:, 1::2] = pe[:-k, 1::2] * c - pe[:-k, 0::2] * s
    out["sinusoid_shift"] = (shifted - pe[k:]).abs().max().item()

    # RoPE: q.k depends only on m - n; and equals the complex-number formulation
    q = torch.randn(d, generator=gen, dtype=torch.float64)
    kk = torch.randn(d, generator=gen, dtype=torch.float64)
    pos = torch.arange(200, dtype=torch.float64)
    rq, rk = rope(q.expand(200, d), pos), rope(kk.expand(200, d), pos)
    scores = rq @ rk.T  # scores[m, n]
    rel = 0.0
    for offset in range(-20, 21):
        diag = torch.diagonal(scores, offset)
        rel = max(rel, (diag - diag[0]).abs().max().item())
    out["rope_relative"] = rel / scores.abs().max().item()
    zq = torch.view_as_complex(q.view(-1, 2).contiguous())
    theta = 10000.0 ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)
    rot = torch.polar(torch.ones_like(theta), 37 * theta)
    out["rope_complex"] = (
        (torch.view_as_real(zq * rot).flatten() - rope(q[None], torch.tensor([37.0]))[0])
        .abs()
        .max()
        .item()
    )

    # ALiBi slopes: the paper's values for 8 heads, geometric ratio for ours; the bias itself
    paper8 = torch.tensor([1 / 2**i for i in range(1, 9)])
    ours = alibi_slopes(heads).double()
    ratio = ours[1:] / ours[:-1] if heads > 1 else torch.tensor([2.0 ** (-8.0 / heads)])
    out["alibi_slopes"] = max(
        (alibi_slopes(8) - paper8).abs().max().item(),
        (ratio - 2.0 ** (-8.0 / heads)).abs().max().item(),
        abs(ours[0].item() - 2.0 ** (-8.0 / heads)),
    )
    bias = alibi_bias(heads, 12)
    loop = max(
        abs(bias[h, m, n].item() + ours[h].item() * (m - n))
        for h in range(heads)
        for m in range(12)
        for n in range(m + 1)
    )
    out["alibi_bias"] = loop
    return out


# ----------------------------------------------------------------------------- the demo


def run(ctx: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    p, emit, dev = ctx.params, ctx.emit, ctx.device
    gen = torch.Generator().manual_seed(ctx.seed)
    d, heads, vocab = p["d_model"], p["heads"], p["vocab"]
    train_len = p["train_len"]
    lengths = [train_len * f for f in (1, 2, 4, 8) if f <= p["max_factor"]]
    chain = MarkovChain(vocab, gen)
    test = {n: chain.sample(max(16, 4096 // n), n, gen) for n in lengths}
    oracle = {n: chain.oracle_nll(x) for n, x in test.items()}
    order1 = {n: chain.order1_nll(x) for n, x in test.items()}
    emit.text(
        f"Order-2 Markov chain over {vocab} tokens. A 1-layer Transformer (d={d}, {heads} heads) "
        f"is trained on length {train_len} for {p['train_steps']} steps per encoding and "
        f"evaluated at lengths {', '.join(map(str, lengths))}. Best possible loss "
        f"{oracle[train_len]:.3f} nats; without finding the previous token: "
        f"{order1[train_len]:.3f}."
    )

    results: dict[str, dict[int, float]] = {}
    models: dict[str, TinyLM] = {}
    t0 = time.perf_counter()
    total = len(ENCODINGS) * p["train_steps"]
    done = 0
    for enc in ENCODINGS:
        torch.manual_seed(ctx.seed)
        model = TinyLM(vocab, d, heads, enc, max(lengths)).to(dev)
        opt = optim.AdamW(model.parameters(), lr=p["lr"], weight_decay=0.0)
        sched = torch.optim.lr_scheduler.OneCycleLR(
            opt, p["lr"], total_steps=p["train_steps"], pct_start=0.1
        )
        curve = []
        for _ in range(p["train_steps"]):
            x = chain.sample(32, train_len, gen).to(dev)
            logits = model(x[:, :-1])[:, 1:]
            loss = F.cross_entropy(logits.reshape(-1, vocab), x[:, 2:].reshape(-1))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            curve.append(loss.item())
            done += 1
            emit.progress(done, total, f"training ({enc})")
        every = max(1, len(curve) // 40)
        emit.series(
            enc,
            list(range(every, len(curve) + 1, every)),
            [sum(curve[i - every : i]) / every for i in range(every, len(curve) + 1, every)],
            "step",
            "loss (nats)",
            group="training loss",
        )
        model.eval()
        results[enc] = {n: nll(model, x.to(dev)) for n, x in test.items()}
        models[enc] = model
    train_seconds = time.perf_counter() - t0

    # RoPE + position interpolation: the RoPE model, positions scaled by train_len / n
    pi = {}
    for n, x in test.items():
        models["rope"].position_scale = min(1.0, train_len / n)
        pi[n] = nll(models["rope"], x.to(dev))
    models["rope"].position_scale = 1.0
    results["rope + PI"] = pi

    # The paper's recipe: interpolate, then fine-tune briefly at the long length. Compared with
    # fine-tuning the same number of steps without interpolation (plain extrapolation).
    long = lengths[-1]
    ft_steps = max(1, p["train_steps"] // 10)
    tuned = {}
    for name, scale in (("rope + PI + fine-tune", train_len / long), ("rope + fine-tune", 1.0)):
        model = copy.deepcopy(models["rope"]).train()
        model.position_scale = scale
        opt = optim.AdamW(model.parameters(), lr=p["lr"] / 10)
        for _ in range(ft_steps):
            x = chain.sample(8, long, gen).to(dev)
            logits = model(x[:, :-1])[:, 1:]
            loss = F.cross_entropy(logits.reshape(-1, vocab), x[:, 2:].reshape(-1))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        model.eval()
        tuned[name] = nll(model, test[long].to(dev))

    rows = [[enc] + [round(results[enc][n], 4) for n in lengths] for enc in results]
    rows.append(["best possible"] + [round(oracle[n], 4) for n in lengths])
    rows.append(["order-1 (no previous token)"] + [round(order1[n], 4) for n in lengths])
    emit.table(
        f"test loss (nats/token) by evaluation length; trained on length {train_len}",
        ["encoding", *(f"L={n}" for n in lengths)],
        rows,
    )
    for enc in results:
        emit.series(
            enc,
            lengths,
            [results[enc][n] - oracle[n] for n in lengths],
            "evaluation length",
            "excess loss over best possible (nats)",
            group="extrapolation",
        )
    ex = exactness(heads, d // heads, gen)
    trained_max = rope_angles(torch.tensor([float(train_len - 1)]), d // heads).max().item()
    pi_max = rope_angles(torch.tensor([(long - 1) * train_len / long]), d // heads).max().item()
    pi_last = (long - 1) * train_len / long  # position interpolation: m -> m L / L'
    raw_max = rope_angles(torch.tensor([float(long - 1)]), d // heads).max().item()
    emit.text(
        f"Position interpolation at length {long}: the last position {long - 1} becomes "
        f"{pi_last:.2f} < {train_len}, inside the training window [0, {train_len}), so the "
        f"largest RoPE angle is {pi_max:.2f} rad (trained positions reach {trained_max:.2f}; "
        f"plain extrapolation reaches {raw_max:.2f}). But neighbours are now "
        f"{train_len / long:.3g} positions apart, so the fast-rotating pairs that told the "
        "model 'this is the previous token' turn by a fraction of the trained angle. The paper "
        "fine-tunes after interpolating (long-range language modelling tolerates it); for a "
        "task this local, squeezing every frequency hurts, which is why later schemes "
        "(NTK-aware scaling, YaRN) leave the high frequencies unscaled."
    )
    emit.table(
        f"after {ft_steps} fine-tuning steps at length {long} (8 sequences per step)",
        ["model", f"loss at L={long}", "excess over best possible"],
        [[k, round(v, 4), round(v - oracle[long], 4)] for k, v in tuned.items()],
    )
    slopes = alibi_slopes(heads).tolist()
    emit.table(
        "ALiBi slopes s_h = 2^(-8h/H)",
        ["head", "slope", "bias at distance 1..4"],
        [[h + 1, s, ", ".join(f"{-s * k:.3g}" for k in range(1, 5))] for h, s in enumerate(slopes)],
    )
    emit.table(
        "exactness (float64)",
        ["property", "max |error|"],
        [
            ["sinusoidal table vs the formula, element by element", ex["sinusoid_formula"]],
            ["PE(m + 7) = R(7w) PE(m) for every m", ex["sinusoid_shift"]],
            ["RoPE: q.k at (m, n) vs (m + s, n + s), relative", ex["rope_relative"]],
            ["RoPE vs the complex form (q_2i + i q_2i+1) e^(i m theta_i)", ex["rope_complex"]],
            ["ALiBi slopes: 8 heads = 1/2..1/256; geometric ratio 2^(-8/H)", ex["alibi_slopes"]],
            ["ALiBi bias = -s_h (m - n), loop over every entry", ex["alibi_bias"]],
        ],
    )

    positional = ("sinusoidal", "learned", "rope", "alibi")
    gap = {enc: results[enc][long] - oracle[long] for enc in results}
    gap_train = {enc: results[enc][train_len] - oracle[train_len] for enc in results}
    # share of the gap between the order-1 baseline and the best possible loss that is closed
    span = order1[train_len] - oracle[train_len]
    closed = {e: (order1[train_len] - results[e][train_len]) / span for e in positional}
    metrics = {
        **{
            f"loss_{enc.replace(' + ', '_')}_L{n}": results[enc][n]
            for enc in results
            for n in lengths
        },
        "oracle_train_len": oracle[train_len],
        "order1_train_len": order1[train_len],
        "oracle_longest": oracle[long],
        "longest_len": long,
        "loss_rope_pi_finetuned_longest": tuned["rope + PI + fine-tune"],
        "loss_rope_finetuned_longest": tuned["rope + fine-tune"],
        **{f"gap_closed_{e}": v for e, v in closed.items()},
        "train_seconds": train_seconds,
        "rope_trained_max_angle": trained_max,
        "rope_pi_max_angle": pi_max,
        "rope_pi_last_position": pi_last,
        **{f"exact_err_{k}": v for k, v in ex.items()},
    }
    checks = {
        "exact_sinusoid_matches_formula": exact(at_most(ex["sinusoid_formula"], 1e-12)),
        "exact_sinusoid_shift_is_a_rotation": exact(at_most(ex["sinusoid_shift"], 1e-12)),
        "exact_rope_score_depends_only_on_offset": exact(at_most(ex["rope_relative"], 1e-12)),
        "exact_rope_matches_complex_form": exact(at_most(ex["rope_complex"], 1e-12)),
        "exact_alibi_slopes_geometric": exact(at_most(ex["alibi_slopes"], 1e-12)),
        "exact_alibi_bias_linear_in_distance": exact(at_most(ex["alibi_bias"], 1e-6)),
        "exact_pi_positions_inside_training_window": exact(at_most(pi_last - train_len, -1e-9)),
        "positions_close_most_of_the_gap_at_train_length": at_least(min(closed.values()), 0.7),
        "no_positions_cannot_find_previous_token": at_least(gap_train["none"], 0.15),
        "relative_encodings_extrapolate_better_than_learned": at_least(
            gap["learned"] - min(gap["rope"], gap["alibi"]), 0.1
        ),
    }
    return metrics, checks

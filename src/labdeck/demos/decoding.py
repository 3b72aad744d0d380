"""Decoding a language model: greedy, beam search, temperature, top-k and top-p sampling.

A 2-layer character-level Transformer is trained (teacher forcing, one parallel pass over a
window) on a short English text shipped with labdeck, then decoded in several ways. At each
step the model gives logits z over the vocabulary for the next character:

    temperature   p_i = softmax(z / T)_i           T < 1 sharpens, T > 1 flattens, T -> 0: greedy
    top-k         keep the k largest p_i, set the rest to 0, renormalise
    top-p         sort p descending, keep the smallest prefix whose sum reaches p (always the
                  first token), renormalise                         (Holtzman et al., 2020)
    greedy        y_t = argmax_i z_i
    beam search   keep the B best partial sequences by sum_t log p(y_t | y_<t); a hypothesis
                  ends at '.'; finished ones are ranked by log p(y) / lp(|y|) with the GNMT
                  length penalty lp(L) = ((5 + L) / 6)^alpha       (Wu et al., 2016)

Without a length penalty (alpha = 0) beam search prefers short sentences, because every extra
token multiplies in a probability < 1. Beam search is not guaranteed to find a more probable
sequence than greedy (the greedy prefix can be pruned), but it usually does.

KV cache: in causal self-attention the keys and values of earlier positions never change, so a
decoder can keep them and, per new token, compute q, k, v for that token only:
    K_{1..t} = [K_{1..t-1}; k_t],   V_{1..t} = [V_{1..t-1}; v_t],
    out_t = softmax(q_t K_{1..t}^T / sqrt(d)) V_{1..t}
which costs O(t) per step instead of re-running all t positions (O(t^2) attention per step).
The logits are the same as a full recomputation; the run checks that in float64.
"""

from __future__ import annotations

import itertools
import math
import time
from importlib import resources
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from labdeck.demos import optim
from labdeck.demos.events import at_least, at_most, exact, is_true

CONTEXT = 64  # training window; prompts plus generated text stay within it
END = "."  # a sentence ends here (the "end of sequence" token for beam search)
PROMPTS = ("The old man ", "In the ", "The dog ", "They ", "The birds ", "On market ")
SWEEP_T = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0)


def load_text() -> str:
    return resources.files("labdeck.demos").joinpath("data/garden.txt").read_text("utf-8")


# ----------------------------------------------------------------------------- the model


class CausalSelfAttention(nn.Module):
    def __init__(self, d: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)

    def forward(self, x: Tensor, cache: dict[str, Tensor] | None = None) -> Tensor:
        b, t, d = x.shape
        h = self.heads
        q, k, v = self.qkv(x).split(d, dim=-1)
        q, k, v = (z.view(b, t, h, d // h).transpose(1, 2) for z in (q, k, v))  # (B, h, t, dh)
        past = 0
        if cache is not None:
            if "k" in cache:
                past = cache["k"].shape[2]
                k = torch.cat([cache["k"], k], dim=2)  # K_{1..t} = [K_{1..t-1}; k_t]
                v = torch.cat([cache["v"], v], dim=2)
            cache["k"], cache["v"] = k, v
        att = q @ k.transpose(-2, -1) / math.sqrt(d // h)  # (B, h, t, past + t)
        # query i (absolute position past + i) may look at keys j <= past + i
        qi = torch.arange(t, device=x.device)[:, None] + past
        kj = torch.arange(past + t, device=x.device)[None, :]
        att = att.masked_fill(kj > qi, float("-inf")).softmax(-1)
        y = (att @ v).transpose(1, 2).reshape(b, t, d)
        out: Tensor = self.proj(y)
        return out


class Block(nn.Module):
    def __init__(self, d: int, heads: int) -> None:
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.attn = CausalSelfAttention(d, heads)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))

    def forward(self, x: Tensor, cache: dict[str, Tensor] | None = None) -> Tensor:
        x = x + self.attn(self.ln1(x), cache)  # pre-norm residual blocks
        out: Tensor = x + self.mlp(self.ln2(x))
        return out


class CharTransformer(nn.Module):
    """Token + learned position embeddings, 2 pre-norm blocks, a linear head."""

    def __init__(self, vocab: int, d: int, heads: int, layers: int = 2) -> None:
        super().__init__()
        self.tok = nn.Embedding(vocab, d)
        self.pos = nn.Embedding(CONTEXT, d)
        self.blocks = nn.ModuleList(Block(d, heads) for _ in range(layers))
        self.ln = nn.LayerNorm(d)
        self.head = nn.Linear(d, vocab)

    def forward(self, idx: Tensor, caches: list[dict[str, Tensor]] | None = None) -> Tensor:
        """Logits (B, t, V). With ``caches`` (one dict per layer) only the new tokens are fed."""
        past = caches[0]["k"].shape[2] if caches and "k" in caches[0] else 0
        pos = torch.arange(past, past + idx.shape[1], device=idx.device)
        x = self.tok(idx) + self.pos(pos)
        for i, block in enumerate(self.blocks):
            x = block(x, caches[i] if caches is not None else None)
        out: Tensor = self.head(self.ln(x))
        return out

    def new_caches(self) -> list[dict[str, Tensor]]:
        return [{} for _ in self.blocks]


# ----------------------------------------------------------------------------- filtering


def filtered_probs(logits: Tensor, temperature: float, top_k: int, top_p: float) -> Tensor:
    """Temperature, then top-k (0 = off), then top-p (1 = off); rows renormalised."""
    probs = (logits / temperature).softmax(-1)
    if 0 < top_k < probs.shape[-1]:
        kth = probs.topk(top_k, dim=-1).values[..., -1:]
        probs = probs * (probs >= kth)
        probs = probs / probs.sum(-1, keepdim=True)
    if top_p < 1.0:
        sorted_p, order = probs.sort(-1, descending=True)
        before = sorted_p.cumsum(-1) - sorted_p  # mass of the tokens ranked above each one
        keep_sorted = before < top_p  # the first token always has before = 0
        keep = torch.zeros_like(keep_sorted).scatter(-1, order, keep_sorted)
        probs = probs * keep
        probs = probs / probs.sum(-1, keepdim=True)
    return probs


def brute_force_filter(logits: list[float], temperature: float, k: int, p: float) -> list[float]:
    """The same filters written as plain Python loops over one row (the reference)."""
    m = max(z / temperature for z in logits)
    e = [math.exp(z / temperature - m) for z in logits]
    probs = [x / sum(e) for x in e]
    if 0 < k < len(probs):
        ranked = sorted(range(len(probs)), key=lambda i: -probs[i])
        kept = set(ranked[:k])
        probs = [q if i in kept else 0.0 for i, q in enumerate(probs)]
        probs = [q / sum(probs) for q in probs]
    if p < 1.0:
        ranked = sorted(range(len(probs)), key=lambda i: -probs[i])
        kept, mass = set(), 0.0
        for i in ranked:
            kept.add(i)
            mass += probs[i]
            if mass >= p:
                break
        probs = [q if i in kept else 0.0 for i, q in enumerate(probs)]
        probs = [q / sum(probs) for q in probs]
    return probs


def check_filters(gen: torch.Generator, settings: list[tuple[float, int, float]]) -> dict[str, Any]:
    """Vectorised filters vs the loop reference on random float64 logits (no ties)."""
    err = sum_err = 0.0
    rows = []
    for temperature, k, p in settings:
        logits = torch.randn(8, 30, generator=gen, dtype=torch.float64) * 2.5
        ours = filtered_probs(logits, temperature, k, p)
        ref = torch.tensor(
            [brute_force_filter(r.tolist(), temperature, k, p) for r in logits],
            dtype=torch.float64,
        )
        e = (ours - ref).abs().max().item()
        s = (ours.sum(-1) - 1).abs().max().item()
        err, sum_err = max(err, e), max(sum_err, s)
        support = (ours > 0).sum(-1).float().mean().item()
        rows.append([f"{temperature:g}", k or "off", f"{p:g}" if p < 1 else "off", support, e])
    return {"err": err, "sum_err": sum_err, "rows": rows}


# ----------------------------------------------------------------------------- decoding


def _step_logits(model: CharTransformer, ids: list[int], dev: torch.device) -> Tensor:
    out: Tensor = model(torch.tensor([ids], device=dev))[0, -1].double()
    return out


@torch.no_grad()
def greedy(
    model: CharTransformer, prompt: list[int], end: int, max_new: int, dev: torch.device
) -> list[int]:
    ids = list(prompt)
    for _ in range(max_new):
        nxt = int(_step_logits(model, ids, dev).argmax())
        ids.append(nxt)
        if nxt == end:
            break
    return ids[len(prompt) :]


def length_penalty(length: int, alpha: float) -> float:
    return float(((5 + length) / 6) ** alpha)


@torch.no_grad()
def beam_search(
    model: CharTransformer,
    prompt: list[int],
    end: int,
    max_new: int,
    beams: int,
    alpha: float,
    dev: torch.device,
) -> tuple[list[int], float]:
    """Best continuation and its log-probability.

    Each step scores every extension of the ``beams`` live hypotheses by total log p and walks
    the 2B best in order: an extension ending in ``end`` that ranks within the top B is a
    finished hypothesis; the others refill the beam to B. The winner maximises
    log p / lp(length). The search stops at ``max_new`` or as soon as no live hypothesis can
    still win: its log p (<= 0) can only fall, and lp at most grows to lp(max_new), so
    log p_live / lp(max_new) bounds its final score. With alpha = 0 and beams = 1 this is
    exactly greedy decoding: the single live hypothesis is always the argmax, and the first
    time the argmax is ``end`` it has a higher log p than the runner-up, so the search stops
    with it. (With alpha > 0 one beam may go on past that point and find a longer sentence
    with a better normalised score.)"""
    live: list[tuple[list[int], float]] = [([], 0.0)]
    done: list[tuple[list[int], float]] = []
    for _ in range(max_new):
        batch = torch.tensor([prompt + seq for seq, _ in live], device=dev)
        logp = model(batch)[:, -1].double().log_softmax(-1).cpu()  # (live, V)
        total = torch.tensor([s for _, s in live], dtype=torch.float64)[:, None] + logp
        vocab = total.shape[1]
        best = total.flatten().topk(min(2 * beams, total.numel()))
        nxt_live: list[tuple[list[int], float]] = []
        for rank, (score, flat) in enumerate(
            zip(best.values.tolist(), best.indices.tolist(), strict=True)
        ):
            seq = live[flat // vocab][0] + [flat % vocab]
            if flat % vocab == end:
                if rank < beams:
                    done.append((seq, score))
            elif len(nxt_live) < beams:
                nxt_live.append((seq, score))
        live = nxt_live
        if done:
            # A live hypothesis can at best keep its log p (<= 0) and reach the longest length,
            # so its final score is at most log p / lp(max_new): stop once none can win.
            best_done = max(sc / length_penalty(len(q), alpha) for q, sc in done)
            if best_done >= max(sc for _, sc in live) / length_penalty(max_new, alpha):
                break
    else:
        done += live  # the length limit: unfinished hypotheses compete too
    seq, score = max(done, key=lambda h: h[1] / length_penalty(len(h[0]), alpha))
    return seq, score


@torch.no_grad()
def sequence_logp(
    model: CharTransformer, prompt: list[int], seq: list[int], dev: torch.device
) -> float:
    """sum_t log p(y_t | prompt, y_<t) at temperature 1 (one teacher-forced pass)."""
    ids = torch.tensor([prompt + seq], device=dev)
    logp = model(ids[:, :-1])[0].double().log_softmax(-1)
    tgt = ids[0, len(prompt) :]
    return float(logp[len(prompt) - 1 :].gather(-1, tgt[:, None]).sum().item())


@torch.no_grad()
def sample(
    model: CharTransformer,
    prompt: list[int],
    n: int,
    steps: int,
    temperature: float,
    top_k: int,
    top_p: float,
    gen: torch.Generator,
    dev: torch.device,
) -> tuple[list[list[int]], float]:
    """``n`` sampled continuations (batched, with a KV cache) and the mean entropy (nats) of the
    distributions they were drawn from."""
    caches = model.new_caches()
    logits = model(torch.tensor([prompt] * n, device=dev), caches)[:, -1]
    out: list[list[int]] = [[] for _ in range(n)]
    entropy = 0.0
    for _ in range(steps):
        probs = filtered_probs(logits.double().cpu(), temperature, top_k, top_p)
        entropy += -(probs * probs.clamp_min(1e-300).log()).sum(-1).mean().item()
        nxt = torch.multinomial(probs, 1, generator=gen)  # (n, 1)
        for row, c in zip(out, nxt[:, 0].tolist(), strict=True):
            row.append(c)
        logits = model(nxt.to(dev), caches)[:, -1]
    return out, entropy / steps


def distinct_n(seqs: list[list[int]], n: int) -> float:
    """Unique n-grams / all n-grams over a set of samples (Li et al., 2016)."""
    grams = [tuple(s[i : i + n]) for s in seqs for i in range(len(s) - n + 1)]
    return len(set(grams)) / max(1, len(grams))


@torch.no_grad()
def check_kv_cache(
    model: CharTransformer, prompt: list[int], steps: int, dev: torch.device
) -> dict[str, Any]:
    """Logits with the cache vs a full recomputation of the prefix, for every generated step."""
    out = {}
    for name, dtype in (("float64", torch.float64), ("float32", torch.float32)):
        m = model.to(dtype)
        ids = list(prompt)
        caches = m.new_caches()
        cached = m(torch.tensor([ids], device=dev), caches)[0, -1]
        err = 0.0
        for _ in range(steps):
            full = m(torch.tensor([ids], device=dev))[0, -1]
            err = max(err, (cached - full).abs().max().item())
            nxt = int(full.argmax())
            ids.append(nxt)
            cached = m(torch.tensor([[nxt]], device=dev), caches)[0, -1]
        out[name] = err
    model.float()
    return out


# ----------------------------------------------------------------------------- the demo


def run(ctx: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    p, emit, dev = ctx.params, ctx.emit, ctx.device
    gen = torch.Generator().manual_seed(ctx.seed)
    text = load_text()
    chars = sorted(set(text))
    stoi = {c: i for i, c in enumerate(chars)}
    data = torch.tensor([stoi[c] for c in text])
    end = stoi[END]

    def enc(s: str) -> list[int]:
        return [stoi[c] for c in s]

    def dec(ids: list[int]) -> str:
        return "".join(chars[i] for i in ids)

    counts = torch.bincount(data, minlength=len(chars)).double()
    unigram = -(counts / counts.sum() * (counts / counts.sum()).log()).sum().item()
    model = CharTransformer(len(chars), p["d_model"], 4).to(dev)
    steps, batch = p["train_steps"], 16
    opt = optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 1e-2, total_steps=steps, pct_start=0.1)
    emit.text(
        f"{len(text)} characters of English, vocabulary {len(chars)}; a 2-layer Transformer "
        f"(d={p['d_model']}, 4 heads, context {CONTEXT}) trained {steps} steps on random "
        f"windows of {batch}x{CONTEXT}. Unigram entropy of the text: {unigram:.3f} nats/char."
    )

    t0 = time.perf_counter()
    xs, ys = [], []
    every = max(1, steps // 50)
    running = 0.0
    for step in range(1, steps + 1):
        start = torch.randint(0, len(data) - CONTEXT - 1, (batch,), generator=gen)
        win = torch.stack([data[s : s + CONTEXT + 1] for s in start.tolist()]).to(dev)
        logits = model(win[:, :-1])  # teacher forcing: predict every next character at once
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), win[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        running += loss.item()
        if step % every == 0 or step == steps:
            xs.append(step)
            ys.append(running / (every if step % every == 0 else step % every))
            running = 0.0
            emit.progress(step, steps, "training")
    train_seconds = time.perf_counter() - t0
    emit.series("training loss", xs, ys, xlabel="step", ylabel="nats/char")
    model.eval()

    # --- greedy vs beam search ---------------------------------------------------------------
    max_new = CONTEXT - max(len(s) for s in PROMPTS)
    rows, beam_wins, beam1_same = [], 0, True
    greedy_total = beam_total = 0.0
    for prompt in PROMPTS:
        ids = enc(prompt)
        g = greedy(model, ids, end, max_new, dev)
        g_lp = sequence_logp(model, ids, g, dev)
        b, b_lp = beam_search(model, ids, end, max_new, p["beams"], p["length_penalty"], dev)
        b1, _ = beam_search(model, ids, end, max_new, 1, 0.0, dev)
        raw, _ = beam_search(model, ids, end, max_new, p["beams"], 0.0, dev)
        raw_lp = sequence_logp(model, ids, raw, dev)  # scored like greedy: same pass, same sums
        beam1_same &= b1 == g
        beam_wins += raw == g or raw_lp > g_lp
        greedy_total, beam_total = greedy_total + g_lp, beam_total + raw_lp
        rows.append([prompt + dec(g), f"{g_lp:.2f}", prompt + dec(b), f"{b_lp:.2f}"])
    emit.text(
        f"Without a length penalty, beam search (beams={p['beams']}) found a continuation at "
        f"least as likely as greedy for {beam_wins} of {len(PROMPTS)} prompts (mean log p "
        f"{beam_total / len(PROMPTS):.2f} vs {greedy_total / len(PROMPTS):.2f}); it is not "
        "guaranteed to, because the greedy prefix can fall out of the beam."
    )
    emit.table(
        f"greedy vs beam search (beams={p['beams']}, length penalty alpha="
        f"{p['length_penalty']:g}); log p of the continuation",
        ["greedy", "log p", "beam", "log p"],
        rows,
    )
    alphas = (0.0, 0.6, 1.0, 2.0)
    lp_rows = []
    for a in alphas:
        lens = [
            len(beam_search(model, enc(s), end, max_new, max(p["beams"], 2), a, dev)[0])
            for s in PROMPTS[:3]
        ]
        lp_rows.append([f"{a:g}", sum(lens) / len(lens)])
    emit.table(
        "length penalty ((5+L)/6)^alpha: mean continuation length of the chosen beam",
        ["alpha", "mean length (chars)"],
        lp_rows,
    )

    # --- sampling at the chosen knobs --------------------------------------------------------
    prompt_ids = enc(PROMPTS[0])
    samples, chosen_entropy = sample(
        model, prompt_ids, 4, 40, p["temperature"], p["top_k"], p["top_p"], gen, dev
    )
    emit.text(
        f"samples at temperature {p['temperature']:g}, top-k {p['top_k'] or 'off'}, top-p "
        f"{p['top_p']:g} (mean entropy {chosen_entropy:.3f} nats/step):\n"
        + "\n".join(PROMPTS[0] + dec(s).replace("\n", " ") for s in samples)
    )

    # --- diversity vs temperature ------------------------------------------------------------
    sweep = []
    for temp in SWEEP_T:
        seqs, ent = sample(model, prompt_ids, 16, 40, temp, p["top_k"], p["top_p"], gen, dev)
        nll = -sum(sequence_logp(model, prompt_ids, s, dev) for s in seqs) / (16 * 40)
        sweep.append([temp, ent, distinct_n(seqs, 2), distinct_n(seqs, 3), nll])
    emit.table(
        "diversity vs temperature (16 samples x 40 chars; NLL under the model at T = 1)",
        ["T", "entropy (nats)", "distinct-2", "distinct-3", "NLL (nats/char)"],
        [[f"{r[0]:g}", *(round(v, 4) for v in r[1:])] for r in sweep],
    )
    for col, name in ((1, "entropy"), (2, "distinct-2")):
        emit.series(
            name, SWEEP_T, [r[col] for r in sweep], "temperature", "value", group="diversity"
        )

    # --- exactness ---------------------------------------------------------------------------
    kv = check_kv_cache(model, enc(PROMPTS[1]), max_new, dev)
    settings = [(1.0, 5, 1.0), (1.0, 0, 0.9), (0.7, 10, 0.8), (1.5, 3, 0.5), (1.0, 1, 1.0)]
    settings.append((p["temperature"], min(p["top_k"], 30), p["top_p"]))
    filt = check_filters(gen, settings)
    emit.table(
        "filtered distributions: vectorised vs brute-force loops (random logits, 30 tokens)",
        ["T", "top-k", "top-p", "mean support", "max |diff|"],
        filt["rows"],
    )
    emit.text(
        f"KV cache vs full recomputation over {max_new} steps: max |logit diff| "
        f"{kv['float64']:.2e} in float64, {kv['float32']:.2e} in float32 (rounding only)."
    )

    entropies = [r[1] for r in sweep]
    metrics = {
        "final_loss": ys[-1],
        "unigram_entropy": unigram,
        "train_seconds": train_seconds,
        "kv_cache_max_err_f64": kv["float64"],
        "kv_cache_max_err_f32": kv["float32"],
        "filter_max_err": filt["err"],
        "filter_sum_err": filt["sum_err"],
        "beam_wins_over_greedy": beam_wins,
        "greedy_mean_logp": greedy_total / len(PROMPTS),
        "beam_mean_logp": beam_total / len(PROMPTS),
        "entropy_at_temperature": chosen_entropy,
        "entropy_t_low": entropies[0],
        "entropy_t_high": entropies[-1],
        "distinct2_t_low": sweep[0][2],
        "distinct2_t_high": sweep[-1][2],
        "length_alpha0": lp_rows[0][1],
        "length_alpha2": lp_rows[-1][1],
    }
    checks = {
        "exact_kv_cache_equals_recompute": exact(at_most(kv["float64"], 1e-9)),
        "exact_filters_match_brute_force": exact(at_most(filt["err"], 1e-12)),
        "exact_filtered_rows_sum_to_one": exact(at_most(filt["sum_err"], 1e-12)),
        "exact_beam1_equals_greedy": exact(
            is_true(beam1_same, f"beams = 1, alpha = 0: all {len(PROMPTS)} prompts")
        ),
        "model_beats_unigram": at_most(ys[-1], unigram - 0.8),
        "beam_more_likely_than_greedy_on_average": at_least(
            (beam_total - greedy_total) / len(PROMPTS), 0.0
        ),
        "entropy_grows_with_temperature": is_true(
            all(a < b for a, b in itertools.pairwise(entropies)),
            f"increasing over T = {', '.join(map(str, SWEEP_T))}",
        ),
        "distinct2_grows_with_temperature": at_least(sweep[-1][2] - sweep[0][2], 0.05),
    }
    return metrics, checks

"""Connectionist Temporal Classification (Graves et al., 2006) on synthetic "speech".

Alphabet: blank (index 0) plus symbols 1..K. A path pi assigns one class per frame; the
collapse map B merges repeats and then deletes blanks:  B(a a _ b b _ b) = a b b.
    p(l | x) = sum_{pi : B(pi) = l} prod_t y_t(pi_t)        (frames independent given x)
    CTC loss = -log p(l | x), computed by the forward recursion over the extended label
    l' = _ l_1 _ l_2 _ ... l_U _ (length 2U + 1):
        alpha_t(s) = (alpha_{t-1}(s) + alpha_{t-1}(s-1) + [l'_s != _ and l'_s != l'_{s-2}]
                      alpha_{t-1}(s-2)) * y_t(l'_s)
        p(l | x) = alpha_T(2U+1) + alpha_T(2U)
    A doubled symbol (a a) needs a blank between its copies; hence T >= U + #repeats.
torch's nn.CTCLoss(reduction='mean') divides each sequence's loss by its target length and
then averages over the batch; reduction='sum' just adds the per-sequence losses.

Decoding: greedy (best path: argmax per frame, then B) versus prefix beam search, which sums
the probability of all paths that share a labelling prefix (kept separately for prefixes whose
path ends in blank and in non-blank, so that "a _ a" and "a a" are told apart).

The data: each symbol has a prototype feature vector; a symbol is rendered as 2-5 noisy copies
of its prototype, and a silence frame is forced between two equal symbols (as a pause between
two identical sounds), so the labelling is recoverable from the frames.
"""

from __future__ import annotations

import itertools
import math
import time
from collections import defaultdict
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from labdeck.demos import optim
from labdeck.demos.events import EXACT, at_least, at_most, is_true

BLANK = 0
FEATURES = 16


# ----------------------------------------------------------------------------- data


class SyntheticSpeech:
    """Labelled sequences of noisy prototype frames; the frame alignment is never given."""

    def __init__(self, symbols: int, noise: float, seed: int) -> None:
        rng = np.random.default_rng(seed)
        self.symbols = symbols
        self.noise = noise
        self.prototypes = rng.normal(size=(symbols + 1, FEATURES)).astype(np.float32)
        self.prototypes[0] *= 0.2  # index 0 here = silence (quiet frames), not the CTC blank

    def sample(self, rng: np.random.Generator) -> tuple[np.ndarray, list[int], list[int]]:
        """(frames (T, F), label sequence, frame-level truth with 0 for silence)."""
        n = int(rng.integers(3, 8))
        labels = [int(c) for c in rng.integers(1, self.symbols + 1, size=n)]
        frames: list[int] = [0] * int(rng.integers(0, 3))  # leading silence
        for i, c in enumerate(labels):
            if i > 0 and labels[i - 1] == c:
                frames.append(0)  # forced pause between repeated symbols
            elif i > 0 and rng.random() < 0.25:
                frames.append(0)
            frames += [c] * int(rng.integers(2, 6))
        frames += [0] * int(rng.integers(0, 3))  # trailing silence
        x = self.prototypes[frames] + self.noise * rng.normal(size=(len(frames), FEATURES))
        return x.astype(np.float32), labels, frames

    def batch(self, rng: np.random.Generator, size: int) -> dict[str, Any]:
        items = [self.sample(rng) for _ in range(size)]
        t_max = max(len(x) for x, _, _ in items)
        x = np.zeros((size, t_max, FEATURES), dtype=np.float32)
        for i, (xi, _, _) in enumerate(items):
            x[i, : len(xi)] = xi
        return {
            "x": torch.from_numpy(x),
            "x_len": torch.tensor([len(xi) for xi, _, _ in items]),
            "targets": torch.tensor([c for _, lab, _ in items for c in lab]),
            "y_len": torch.tensor([len(lab) for _, lab, _ in items]),
            "labels": [lab for _, lab, _ in items],
            "frames": [fr for _, _, fr in items],
        }


class BiGRUTagger(nn.Module):
    """Per-frame log-probabilities over blank + K symbols from a bidirectional GRU."""

    def __init__(self, symbols: int, hidden: int) -> None:
        super().__init__()
        self.gru = nn.GRU(FEATURES, hidden, batch_first=True, bidirectional=True)
        self.out = nn.Linear(2 * hidden, symbols + 1)

    def forward(self, x: Tensor, lengths: Tensor) -> Tensor:
        packed = nn.utils.rnn.pack_padded_sequence(
            x, lengths.cpu(), batch_first=True, enforce_sorted=False
        )  # so the backward direction starts at each sequence's real last frame
        h, _ = self.gru(packed)
        h, _ = nn.utils.rnn.pad_packed_sequence(h, batch_first=True, total_length=x.shape[1])
        return F.log_softmax(self.out(h), dim=-1)  # (B, T, K + 1)


# ----------------------------------------------------------------------------- CTC, by hand


def collapse(path: list[int] | tuple[int, ...], blank: int = BLANK) -> tuple[int, ...]:
    """B: merge repeated classes, then drop blanks."""
    out = []
    prev = None
    for c in path:
        if c != prev and c != blank:
            out.append(c)
        prev = c
    return tuple(out)


def brute_force_ctc(log_probs: Tensor, target: list[int]) -> float:
    """-log sum over every path pi with B(pi) = target of prod_t y_t(pi_t) (C^T paths)."""
    t_len, classes = log_probs.shape
    lp = log_probs.double()
    logs = [
        lp[torch.arange(t_len), torch.tensor(path)].sum().item()
        for path in itertools.product(range(classes), repeat=t_len)
        if collapse(path) == tuple(target)
    ]
    if not logs:
        return math.inf
    return -torch.logsumexp(torch.tensor(logs, dtype=torch.float64), 0).item()


def labelling_probs(log_probs: Tensor) -> dict[tuple[int, ...], float]:
    """p(l | x) for every labelling l reachable in T frames, by enumerating all paths."""
    t_len, classes = log_probs.shape
    p = log_probs.double().exp()
    out: dict[tuple[int, ...], float] = defaultdict(float)
    for path in itertools.product(range(classes), repeat=t_len):
        out[collapse(path)] += math.prod(p[t, c].item() for t, c in enumerate(path))
    return dict(out)


def greedy_decode(log_probs: Tensor) -> tuple[int, ...]:
    """Best path: argmax per frame, then collapse (log_probs: (T, C))."""
    return collapse(log_probs.argmax(-1).tolist())


def _lse(a: float, b: float) -> float:
    if a == -math.inf:
        return b
    if b == -math.inf:
        return a
    m = max(a, b)
    return m + math.log1p(math.exp(-abs(a - b)))


def prefix_beam_search(
    log_probs: Tensor | np.ndarray, beam: int, prune: float = -math.inf
) -> tuple[tuple[int, ...], float]:
    """Most probable labelling by prefix beam search; returns (labelling, log p).

    Each prefix keeps two scores: p_b (paths so far end in blank) and p_nb (end in its last
    symbol). Extending prefix l by symbol c at frame t:
        c == blank:        p_b(l)    += (p_b(l) + p_nb(l)) y_t(_)
        c == last of l:    p_nb(l)   += p_nb(l) y_t(c)      (repeat collapses into l)
                           p_nb(l+c) += p_b(l) y_t(c)       (a blank separated the copies)
        otherwise:         p_nb(l+c) += (p_b(l) + p_nb(l)) y_t(c)
    then only the ``beam`` best prefixes survive. Classes with log y_t(c) < prune are skipped.
    """
    lp = np.asarray(
        log_probs.detach().cpu().double() if isinstance(log_probs, Tensor) else log_probs,
        dtype=np.float64,
    )
    beams: dict[tuple[int, ...], tuple[float, float]] = {(): (0.0, -math.inf)}
    for t in range(lp.shape[0]):
        row = lp[t]
        cands = [c for c in range(len(row)) if row[c] >= prune] or [int(row.argmax())]
        nxt: dict[tuple[int, ...], list[float]] = defaultdict(lambda: [-math.inf, -math.inf])
        for prefix, (pb, pnb) in beams.items():
            total = _lse(pb, pnb)
            last = prefix[-1] if prefix else None
            for c in cands:
                y = row[c]
                if c == BLANK:
                    e = nxt[prefix]
                    e[0] = _lse(e[0], total + y)
                elif c == last:
                    same = nxt[prefix]
                    same[1] = _lse(same[1], pnb + y)
                    ext = nxt[(*prefix, c)]
                    ext[1] = _lse(ext[1], pb + y)
                else:
                    ext = nxt[(*prefix, c)]
                    ext[1] = _lse(ext[1], total + y)
        ranked = sorted(nxt.items(), key=lambda kv: _lse(*kv[1]), reverse=True)[:beam]
        beams = {k: (v[0], v[1]) for k, v in ranked}
    best, (pb, pnb) = max(beams.items(), key=lambda kv: _lse(*kv[1]))
    return best, _lse(pb, pnb)


def edit_distance(a: list[int] | tuple[int, ...], b: list[int] | tuple[int, ...]) -> int:
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


# ----------------------------------------------------------------------------- exactness


def check_against_brute_force(
    gen: torch.Generator, cases: int = 12, device: Any = "cpu"
) -> dict[str, Any]:
    """F.ctc_loss (fp64, on ``device``) vs enumeration; prefix beam search vs the true best
    labelling."""
    loss_err = 0.0
    beam_hits = 0
    greedy_misses = 0
    rows = []
    for i in range(cases):
        t_len = 3 + i % 4  # 3..6 frames
        classes = 3 if t_len >= 5 else 4  # blank + 2 or 3 symbols (<= 4^4 = 243 paths)
        logits = torch.randn(t_len, classes, generator=gen, dtype=torch.float64) * 1.5
        lp = logits.log_softmax(-1)
        u = 1 + i % 3
        target = torch.randint(1, classes, (u,), generator=gen).tolist()
        if i % 4 == 0 and t_len >= 3:
            target = [1, 1]  # a doubled symbol: needs a blank between the copies
        ref = brute_force_ctc(lp, target)
        ours = F.ctc_loss(
            lp[:, None, :].to(device),
            torch.tensor([target], device=device),
            torch.tensor([t_len]),
            torch.tensor([len(target)]),
            blank=BLANK,
            reduction="none",
        ).item()
        loss_err = max(loss_err, abs(ours - ref))
        table = labelling_probs(lp)
        best = max(table, key=lambda labels: table[labels])
        found, _ = prefix_beam_search(lp, beam=256)
        beam_hits += found == best
        greedy_misses += greedy_decode(lp) != best
        if i < 6:
            rows.append(
                [
                    t_len,
                    classes - 1,
                    "".join(_sym(c) for c in target),
                    f"{ref:.6f}",
                    f"{ours:.6f}",
                    "".join(_sym(c) for c in best) or "(empty)",
                    "".join(_sym(c) for c in found) or "(empty)",
                ]
            )
    return {
        "loss_err": loss_err,
        "beam_hits": beam_hits,
        "cases": cases,
        "greedy_misses": greedy_misses,
        "rows": rows,
    }


def check_mean_reduction(gen: torch.Generator) -> dict[str, float]:
    """reduction='mean' = mean over the batch of (loss_i / target_length_i)."""
    t_len, batch, classes = 12, 4, 5
    lp = torch.randn(t_len, batch, classes, generator=gen, dtype=torch.float64).log_softmax(-1)
    y_len = torch.tensor([1, 2, 3, 4])
    targets = torch.randint(1, classes, (int(y_len.sum()),), generator=gen)
    x_len = torch.full((batch,), t_len)
    per_seq = F.ctc_loss(lp, targets, x_len, y_len, reduction="none")
    mean = F.ctc_loss(lp, targets, x_len, y_len, reduction="mean")
    return {
        "mean": mean.item(),
        "per_length_mean": (per_seq / y_len).mean().item(),
        "plain_mean": per_seq.mean().item(),
        "err": abs(mean.item() - (per_seq / y_len).mean().item()),
    }


def _sym(c: int) -> str:
    return "_" if c == BLANK else chr(ord("a") + c - 1)


def _word(seq: list[int] | tuple[int, ...]) -> str:
    return "".join(_sym(c) for c in seq)


# ----------------------------------------------------------------------------- the demo


def run(ctx: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    from labdeck.demos.cache import load_or_train

    p, emit, dev = ctx.params, ctx.emit, ctx.device
    gen = torch.Generator().manual_seed(ctx.seed)
    data = SyntheticSpeech(p["symbols"], p["noise"], ctx.seed)
    steps = p["train_steps"]
    emit.text(
        f"{p['symbols']} symbols + blank; each symbol is 2-5 noisy frames (noise std "
        f"{p['noise']}), a silence frame between equal neighbours; BiGRU {p['hidden']}x2; "
        f"{steps} steps of {p['batch']} fresh sequences; nn.CTCLoss(reduction='mean')."
    )

    def fit(model: BiGRUTagger) -> dict[str, Any]:
        rng = np.random.default_rng(ctx.seed)
        ctc = nn.CTCLoss(blank=BLANK, reduction="mean", zero_infinity=True)
        opt = optim.Adam(model.parameters(), lr=p["lr"])
        sched = torch.optim.lr_scheduler.OneCycleLR(
            opt, max_lr=p["lr"], total_steps=steps, pct_start=0.15
        )
        t0 = time.perf_counter()
        xs: list[int] = []
        ys: list[float] = []
        running, count = 0.0, 0
        every = max(1, steps // 60)
        model.train()
        for step in range(1, steps + 1):
            b = data.batch(rng, p["batch"])
            lp = model(b["x"].to(dev), b["x_len"])  # (B, T, C)
            loss = ctc(lp.transpose(0, 1), b["targets"].to(dev), b["x_len"], b["y_len"])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            sched.step()
            running += loss.item()
            count += 1
            if step % every == 0 or step == steps:
                xs.append(step)
                ys.append(running / count)
                running, count = 0.0, 0
                emit.progress(step, steps, "training")
        return {"x": xs, "y": ys, "seconds": time.perf_counter() - t0}

    training = {k: p[k] for k in ("train_steps", "symbols", "hidden", "batch", "noise", "lr")}
    model = BiGRUTagger(p["symbols"], p["hidden"]).to(dev)
    fitted = load_or_train(ctx, training, model, fit)
    xs, ys, train_seconds = fitted["x"], fitted["y"], fitted["seconds"]
    emit.series("CTC loss (per target symbol)", xs, ys, xlabel="step", ylabel="nats")

    # --- evaluation on fresh sequences -------------------------------------------------------
    model.eval()
    n_test = 300
    test = data.batch(np.random.default_rng(ctx.seed + 10_000), n_test)
    with torch.no_grad():
        lp = model(test["x"].to(dev), test["x_len"]).cpu()
    greedy_ok = beam_ok = 0
    greedy_err = beam_err = total_len = 0
    examples = []
    t1 = time.perf_counter()
    for i in range(n_test):
        seq_lp = lp[i, : int(test["x_len"][i])]
        truth = test["labels"][i]
        g = greedy_decode(seq_lp)
        bm, _ = prefix_beam_search(seq_lp, p["beam"], prune=math.log(1e-4))
        greedy_ok += list(g) == truth
        beam_ok += list(bm) == truth
        greedy_err += edit_distance(g, truth)
        beam_err += edit_distance(bm, truth)
        total_len += len(truth)
        if i < 8:
            examples.append(
                [
                    _word(truth),
                    _word(g),
                    _word(bm),
                    "ok" if list(g) == truth else "x",
                    "ok" if list(bm) == truth else "x",
                ]
            )
        emit.progress(i + 1, n_test, "decoding")
    decode_seconds = time.perf_counter() - t1
    emit.table(
        "test sequences: truth vs decoded",
        ["truth", "greedy", f"beam ({p['beam']})", "greedy", "beam"],
        examples,
    )

    # An alignment: posterior of each class (rows) at each frame (columns) for one example.
    i = int(np.argmax([len(lab) for lab in test["labels"][:20]]))
    n = int(test["x_len"][i])
    post = lp[i, :n].exp().T  # (C, T)
    path = lp[i, :n].argmax(-1).tolist()
    emit.image(
        f"alignment for '{_word(test['labels'][i])}': P(class | frame); rows blank, a, b, ...",
        data=post.tolist(),
        ylabels=[_sym(c) for c in range(p["symbols"] + 1)],
        xlabels=[_sym(c) if c else "." for c in test["frames"][i]],
    )
    emit.text(
        "frames (truth, '.' = silence): "
        + "".join(_sym(c) if c else "." for c in test["frames"][i])
        + "\n"
        "best path (argmax per frame):  " + _word(path) + "\n"
        "collapsed (merge repeats, drop blanks): " + _word(collapse(path))
    )

    # --- exactness ---------------------------------------------------------------------------
    brute = check_against_brute_force(gen, device=dev)
    emit.table(
        "CTC loss: torch (fp64) vs brute-force sum over all C^T paths",
        ["T", "K", "target", "brute force", "F.ctc_loss", "best labelling", "beam search"],
        brute["rows"],
    )
    red = check_mean_reduction(gen)
    emit.text(
        f"reduction='mean' gave {red['mean']:.6f} = mean(loss_i / target_len_i) "
        f"{red['per_length_mean']:.6f} (not the plain mean {red['plain_mean']:.6f}). "
        f"Greedy best-path decoding missed the most probable labelling in "
        f"{brute['greedy_misses']} of {brute['cases']} tiny random cases; the wide prefix beam "
        f"search found it in {brute['beam_hits']}."
    )

    greedy_acc = greedy_ok / n_test
    beam_acc = beam_ok / n_test
    metrics = {
        "greedy_seq_acc": greedy_acc,
        "beam_seq_acc": beam_acc,
        "greedy_cer": greedy_err / total_len,
        "beam_cer": beam_err / total_len,
        "final_loss": ys[-1],
        "train_seconds": train_seconds,
        "decode_seconds": decode_seconds,
        "ctc_vs_brute_force_max_err": brute["loss_err"],
        "beam_finds_best_labelling": brute["beam_hits"] / brute["cases"],
        "greedy_misses_best_labelling": brute["greedy_misses"],
        "mean_reduction_err": red["err"],
    }
    checks = {
        "ctc_loss_equals_brute_force": at_most(brute["loss_err"], 1e-6, EXACT),
        "beam_search_finds_most_probable": is_true(
            brute["beam_hits"] == brute["cases"],
            f"{brute['cases']}/{brute['cases']} tiny cases",
            EXACT,
        ),
        "mean_reduction_divides_by_target_length": at_most(red["err"], 1e-9, EXACT),
        "greedy_seq_acc": at_least(greedy_acc, 0.90),
        "greedy_cer": at_most(metrics["greedy_cer"], 0.03),
        "beam_not_worse_than_greedy": at_least(beam_acc - greedy_acc, -0.01),
    }
    return metrics, checks

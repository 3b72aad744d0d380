"""CLIP-style contrastive learning: symmetric InfoNCE on two synthetic "modalities".

Data: a shared latent z ~ N(0, I_k) is seen through two different random nonlinear maps,
    a = f_A(z) + noise,   b = f_B(z) + noise,
so the pair (a_i, b_i) shares information and a_i says nothing about b_j for j != i.

Model (Radford et al., 2021): two encoders map a and b to unit vectors u_i, v_i; with a
temperature tau (CLIP learns log(1/tau), clipped at 100) the N x N logits of a batch are
    L_ij = <u_i, v_j> / tau
and the loss is the mean of two cross-entropies whose correct "class" is the diagonal:
    loss_A->B = -1/N sum_i log( exp(L_ii) / sum_j exp(L_ij) )      (rows: a retrieves its b)
    loss_B->A = -1/N sum_j log( exp(L_jj) / sum_i exp(L_ij) )      (columns: b retrieves its a)
    loss = (loss_A->B + loss_B->A) / 2

InfoNCE and mutual information (van den Oord et al., 2018; Poole et al., 2019): for a batch of
N pairs,  I(A; B) >= log N - loss_InfoNCE.  Since the loss is >= 0, the estimate can never
exceed log N: with small batches the bound saturates at log N however much information the
views share, which is one reason contrastive methods want large batches.
"""

from __future__ import annotations

import math
import time
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from labdeck.demos import optim
from labdeck.demos.events import at_least, at_most, exact, is_true

LATENT, DIM_A, DIM_B, EMBED = 6, 32, 24, 32
EVAL_SIZES = (2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)


class TwoViews:
    """Pairs (f_A(z) + e, f_B(z) + e') with random tanh MLPs f_A, f_B."""

    def __init__(self, noise: float, gen: torch.Generator) -> None:
        self.noise = noise
        self.maps = []
        for dim in (DIM_A, DIM_B):
            w1 = torch.randn(LATENT, 64, generator=gen) / math.sqrt(LATENT)
            w2 = torch.randn(64, dim, generator=gen) / 8.0
            self.maps.append((w1, w2))

    def sample(self, n: int, gen: torch.Generator) -> tuple[Tensor, Tensor]:
        z = torch.randn(n, LATENT, generator=gen)
        views = []
        for w1, w2 in self.maps:
            x = torch.tanh(2.0 * z @ w1) @ w2
            x = x / x.std() + self.noise * torch.randn(x.shape, generator=gen)
            views.append(x)
        return views[0], views[1]


def encoder(dim: int, hidden: int) -> nn.Module:
    return nn.Sequential(
        nn.Linear(dim, hidden),
        nn.GELU(),
        nn.Linear(hidden, hidden),
        nn.GELU(),
        nn.Linear(hidden, EMBED),
    )


class CLIP(nn.Module):
    def __init__(self, hidden: int, temperature: float) -> None:
        super().__init__()
        self.enc_a, self.enc_b = encoder(DIM_A, hidden), encoder(DIM_B, hidden)
        init = math.log(1 / 0.07) if temperature == 0 else math.log(1 / temperature)
        self.logit_scale = nn.Parameter(torch.tensor(init), requires_grad=temperature == 0)

    def embed(self, a: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
        return F.normalize(self.enc_a(a), dim=-1), F.normalize(self.enc_b(b), dim=-1)

    def logits(self, a: Tensor, b: Tensor) -> Tensor:
        u, v = self.embed(a, b)
        scale = self.logit_scale.clamp(max=math.log(100.0)).exp()  # 1 / tau, at most 100
        return scale * u @ v.T  # (N, N): row i = a_i against every b_j


def info_nce(logits: Tensor) -> tuple[Tensor, Tensor]:
    """(loss_A->B, loss_B->A), written out: -mean of the diagonal of the log-softmax."""
    rows = logits - logits.logsumexp(dim=1, keepdim=True)  # log p(b_j | a_i)
    cols = logits - logits.logsumexp(dim=0, keepdim=True)  # log p(a_i | b_j)
    return -rows.diagonal().mean(), -cols.diagonal().mean()


def recall_at(logits: Tensor, k: int) -> float:
    """Share of rows whose own column is among the k highest scores."""
    top = logits.topk(k, dim=1).indices
    return (top == torch.arange(len(logits))[:, None]).any(1).float().mean().item()


def run(ctx: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    p, emit, dev = ctx.params, ctx.emit, ctx.device
    gen = torch.Generator().manual_seed(ctx.seed)
    data = TwoViews(p["noise"], gen)
    model = CLIP(p["hidden"], p["temperature"]).to(dev)
    steps, batch = p["train_steps"], p["batch"]
    opt = optim.AdamW(model.parameters(), lr=p["lr"], weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, p["lr"], total_steps=steps, pct_start=0.1)
    temp_desc = "learnable (init 0.07)" if p["temperature"] == 0 else f"fixed {p['temperature']:g}"
    emit.text(
        f"Latent dim {LATENT}; views of dim {DIM_A} and {DIM_B} from two random tanh MLPs plus "
        f"noise std {p['noise']:g}. Two MLP encoders -> unit vectors in R^{EMBED}; temperature "
        f"{temp_desc}; {steps} steps of {batch} fresh pairs; symmetric InfoNCE."
    )

    t0 = time.perf_counter()
    xs, ys, taus = [], [], []
    every = max(1, steps // 50)
    running = 0.0
    for step in range(1, steps + 1):
        a, b = data.sample(batch, gen)
        l_ab, l_ba = info_nce(model.logits(a.to(dev), b.to(dev)))
        loss = (l_ab + l_ba) / 2
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        running += loss.item()
        if step % every == 0:
            xs.append(step)
            ys.append(running / every)
            taus.append(1 / model.logit_scale.clamp(max=math.log(100.0)).exp().item())
            running = 0.0
            emit.progress(step, steps, "training")
    train_seconds = time.perf_counter() - t0
    emit.series("symmetric InfoNCE", xs, ys, "step", "nats", group="training")
    emit.series(
        f"log N = log {batch}", xs, [math.log(batch)] * len(xs), "step", "nats", group="training"
    )
    tau = 1 / model.logit_scale.clamp(max=math.log(100.0)).exp().item()

    # --- retrieval on held-out pairs ---------------------------------------------------------
    model.eval()
    with torch.no_grad():
        a, b = data.sample(1000, gen)
        logits = model.logits(a.to(dev), b.to(dev)).cpu()
    rec = {
        "a_to_b_r1": recall_at(logits, 1),
        "a_to_b_r5": recall_at(logits, 5),
        "b_to_a_r1": recall_at(logits.T, 1),
        "b_to_a_r5": recall_at(logits.T, 5),
    }
    emit.table(
        "retrieval among 1000 held-out pairs (chance: R@1 0.001, R@5 0.005)",
        ["direction", "recall@1", "recall@5"],
        [
            ["A -> B", rec["a_to_b_r1"], rec["a_to_b_r5"]],
            ["B -> A", rec["b_to_a_r1"], rec["b_to_a_r5"]],
        ],
    )

    # --- the log N bound ---------------------------------------------------------------------
    rows, estimates = [], []
    with torch.no_grad():
        for n in EVAL_SIZES:
            reps = max(1, 2048 // n)
            vals = []
            for _ in range(reps):
                a, b = data.sample(n, gen)
                l_ab, _ = info_nce(model.logits(a.to(dev), b.to(dev)).double())
                vals.append(math.log(n) - l_ab.item())
            est = sum(vals) / reps
            estimates.append(est)
            rows.append([n, round(math.log(n), 4), round(est, 4), round(math.log(n) - est, 4)])
    emit.table(
        "InfoNCE estimate of I(A; B) >= log N - loss, by evaluation batch size N",
        ["N", "log N", "estimate", "log N - estimate"],
        rows,
    )
    emit.series("log N - InfoNCE", EVAL_SIZES, estimates, "batch size N", "nats", group="bound")
    emit.series(
        "log N",
        EVAL_SIZES,
        [math.log(n) for n in EVAL_SIZES],
        "batch size N",
        "nats",
        group="bound",
    )

    # --- exactness ---------------------------------------------------------------------------
    with torch.no_grad():
        a, b = data.sample(64, gen)
        lg = model.logits(a.to(dev), b.to(dev)).double().cpu()
        l_ab, l_ba = info_nce(lg)
        labels = torch.arange(64)
        ref_ab = F.cross_entropy(lg, labels)
        ref_ba = F.cross_entropy(lg.T, labels)
        ce_err = max(abs(l_ab.item() - ref_ab.item()), abs(l_ba.item() - ref_ba.item()))
        sym_err = abs((l_ab + l_ba).item() / 2 - (ref_ab + ref_ba).item() / 2)
        # identical embeddings carry no information: the loss is exactly log N
        flat = info_nce(torch.full((64, 64), 3.0, dtype=torch.float64))[0].item()
    bound_ok = all(e <= math.log(n) + 1e-12 for e, n in zip(estimates, EVAL_SIZES, strict=True))
    emit.text(
        f"Symmetric loss vs F.cross_entropy on the logits (rows) and their transpose (columns): "
        f"max |diff| {ce_err:.2e}. Constant logits give loss {flat:.6f} = log 64 = "
        f"{math.log(64):.6f}. Final temperature tau = {tau:.4f}."
    )

    gaps = [math.log(n) - e for n, e in zip(EVAL_SIZES, estimates, strict=True)]
    metrics = {
        **rec,
        "final_loss": ys[-1] if ys else float("nan"),
        "temperature": tau,
        "train_seconds": train_seconds,
        "ce_max_err": ce_err,
        "symmetric_err": sym_err,
        "constant_logits_loss": flat,
        **{f"mi_estimate_N{n}": e for n, e in zip(EVAL_SIZES, estimates, strict=True)},
        "gap_small_n": gaps[0],
        "gap_large_n": gaps[-1],
    }
    checks = {
        "exact_loss_matches_cross_entropy_both_directions": exact(at_most(ce_err, 1e-12)),
        "exact_symmetric_loss_is_the_mean_of_both": exact(at_most(sym_err, 1e-12)),
        "exact_constant_logits_give_log_n": exact(at_most(abs(flat - math.log(64)), 1e-12)),
        "exact_estimate_never_exceeds_log_n": exact(
            is_true(bound_ok, "log N - loss <= log N for all N")
        ),
        "recall_at_1_a_to_b": at_least(rec["a_to_b_r1"], 0.3),
        "recall_at_1_b_to_a": at_least(rec["b_to_a_r1"], 0.3),
        "bound_tight_for_small_n": at_most(gaps[0], 0.05),
        "bound_saturates_for_large_n": at_least(gaps[-1], 0.5),
    }
    return metrics, checks

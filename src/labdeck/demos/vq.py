"""Discrete latents: a VQ-VAE (van den Oord et al., 2017) and a Gumbel-softmax discrete VAE
(Jang et al. 2017; Maddison et al. 2017; the dVAE of DALL-E) on binarised 8x8 digits.

Each digit becomes L tokens, each one of K codebook entries e_1..e_K in R^D.

VQ-VAE (--quantizer vq). The encoder gives L vectors z_e; each is replaced by its nearest code
    k = argmin_j || z_e - e_j ||^2,   z_q = e_k
argmin has no gradient, so the straight-through estimator copies the decoder's gradient from
z_q to z_e:  z_q = z_e + sg(e_k - z_e)  (sg = stop-gradient, .detach()): the forward value is
e_k, the backward pass is the identity. The codebook then learns from its own term:
    loss = -log p(x | z_q) + || sg(z_e) - e_k ||^2 + beta || z_e - sg(e_k) ||^2
             reconstruction    codebook: e_k -> z_e    commitment: z_e stays near its code

Gumbel-softmax (--quantizer gumbel). The encoder gives logits l_j over the K codes per token;
q(k | x) = softmax(l). A sample k = argmax_j (l_j + g_j), g_j = -log(-log u_j), u ~ U(0, 1), is
exactly a draw from q (the Gumbel-max trick); its relaxation is
    y = softmax((l + g) / tau)          (-> one-hot as the temperature tau -> 0)
and with hard=True the forward pass uses one_hot(argmax y) while the gradient is the soft
sample's: y_hard = one_hot - sg(y) + y. z_q = y_hard E. tau is annealed geometrically from 1 to
--tau-min over training. The loss is the dVAE's -ELBO with a uniform prior over codes, the KL
weighted by beta:  -log p(x | z_q) + beta sum_tokens KL(q(k | x) || U(K)).

Pixels are binarised (x / 16 >= 0.5), so the reconstruction cross-entropy is a real negative
log-likelihood whose floor is 0 nats (grey pixels would put the floor at their entropy).
A deterministic code carries at most L log K nats; with a uniform prior the KL of a one-hot
posterior is exactly log K per token, so -ELBO = reconstruction + L log K.
"""

from __future__ import annotations

import math
import time
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from labdeck.demos import optim
from labdeck.demos.events import EXACT, at_least, at_most, is_true
from labdeck.demos.vae import load_data, mean_image_baseline, recon_nll

# ----------------------------------------------------------------------------- quantisers


def nearest_code(z: Tensor, codebook: Tensor) -> Tensor:
    """argmin_j || z - e_j ||^2 via ||z||^2 - 2 z.e_j + ||e_j||^2 (one matrix product)."""
    d2 = z.pow(2).sum(-1, keepdim=True) - 2 * z @ codebook.T + codebook.pow(2).sum(-1)
    return d2.argmin(-1)


def vector_quantise(z_e: Tensor, codebook: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """(z_q with the straight-through gradient, the chosen code vectors e_k, the indices k)."""
    idx = nearest_code(z_e, codebook)
    e_k = codebook[idx]
    z_q = z_e + (e_k - z_e).detach()  # forward: e_k; backward: d loss / d z_q passed to z_e
    return z_q, e_k, idx


def gumbel_noise(shape: torch.Size, gen: torch.Generator | None, like: Tensor) -> Tensor:
    """g = -log(-log u), u ~ U(0, 1) (clamped away from 0 and 1)."""
    u = torch.rand(shape, generator=gen, dtype=like.dtype).to(like.device)
    tiny = torch.finfo(like.dtype).tiny
    return -torch.log(-torch.log(u.clamp(tiny, 1.0 - 1e-7)))


def gumbel_softmax(logits: Tensor, tau: float, g: Tensor, hard: bool) -> tuple[Tensor, Tensor]:
    """(the sample: soft, or hard one-hot with the soft gradient; the soft relaxation)."""
    soft = ((logits + g) / tau).softmax(-1)
    if not hard:
        return soft, soft
    one_hot = F.one_hot(soft.argmax(-1), logits.shape[-1]).to(soft.dtype)
    return one_hot - soft.detach() + soft, soft  # straight-through: value one-hot, grad soft


# ----------------------------------------------------------------------------- the model


class DiscreteAE(nn.Module):
    """MLP encoder -> L tokens -> quantiser -> MLP decoder giving 64 Bernoulli logits."""

    def __init__(self, quantizer: str, tokens: int, codes: int, dim: int, hidden: int) -> None:
        super().__init__()
        self.quantizer, self.tokens, self.codes, self.dim = quantizer, tokens, codes, dim
        width = tokens * (dim if quantizer == "vq" else codes)  # vectors z_e, or code logits
        self.encoder = nn.Sequential(nn.Linear(64, hidden), nn.ReLU(), nn.Linear(hidden, width))
        self.codebook = nn.Parameter(torch.randn(codes, dim))
        self.decoder = nn.Sequential(
            nn.Linear(tokens * dim, hidden), nn.ReLU(), nn.Linear(hidden, 64)
        )

    def encode(self, x: Tensor) -> Tensor:
        """z_e (n, L, D) for vq, logits (n, L, K) for gumbel."""
        out: Tensor = self.encoder(x).view(len(x), self.tokens, -1)
        return out

    def codes_of(self, x: Tensor) -> Tensor:
        """The deterministic token ids of each image (nearest code, or the most probable)."""
        h = self.encode(x)
        return nearest_code(h, self.codebook) if self.quantizer == "vq" else h.argmax(-1)

    def decode_codes(self, idx: Tensor) -> Tensor:
        out: Tensor = self.decoder(self.codebook[idx].flatten(1))
        return out


# ----------------------------------------------------------------------------- exactness


def check_straight_through(gen: torch.Generator) -> dict[str, Any]:
    """On a tiny fp64 example: the gradient reaching z_e equals the gradient w.r.t. z_q (computed
    separately, at the same value), and the codebook gets none of it."""
    z = torch.randn(3, 2, 4, generator=gen, dtype=torch.float64).requires_grad_()
    book = torch.randn(5, 4, generator=gen, dtype=torch.float64).requires_grad_()
    w = torch.randn(3, 2, 4, generator=gen, dtype=torch.float64)

    def f(v: Tensor) -> Tensor:
        return (w * v).sum() + v.pow(3).sum()  # nonlinear: the gradient depends on the value

    z_q, e_k, _ = vector_quantise(z, book)
    f(z_q).backward()
    at = z_q.detach().clone().requires_grad_()
    f(at).backward()
    assert z.grad is not None and at.grad is not None
    return {
        "grad_err": (z.grad - at.grad).abs().max().item(),
        "value_err": (z_q - e_k).abs().max().item(),  # the forward value is the code
        "codebook_grad": 0.0 if book.grad is None else book.grad.abs().max().item(),
    }


def check_argmin(z: Tensor, codebook: Tensor) -> int:
    """Indices that differ from torch.cdist's (computed directly, not by the expansion), fp64."""
    z64, book64 = z.double().reshape(-1, z.shape[-1]), codebook.double()
    ref = torch.cdist(z64, book64, compute_mode="donot_use_mm_for_euclid_dist").argmin(-1)
    return int((nearest_code(z64, book64) != ref).sum())


def check_gumbel(gen: torch.Generator) -> dict[str, float]:
    """hard=True is one-hot forward (to rounding) and has the soft sample's gradient; the
    Gumbel-max sample is distributed as softmax(logits)."""
    logits = torch.randn(6, 3, 10, generator=gen, dtype=torch.float64).requires_grad_()
    g = gumbel_noise(logits.shape, gen, logits)
    w = torch.randn(6, 3, 10, generator=gen, dtype=torch.float64)
    out: dict[str, float] = {"one_hot_err": 0.0, "grad_err": 0.0}
    for tau in (1.0, 0.5, 0.1):
        hard, soft = gumbel_softmax(logits, tau, g, hard=True)
        winner = (logits + g).argmax(-1)
        one_hot = F.one_hot(winner, 10).double()
        out["one_hot_err"] = max(out["one_hot_err"], (hard - one_hot).abs().max().item())
        (grad_hard,) = torch.autograd.grad((w * hard).sum(), logits)
        soft_only, _ = gumbel_softmax(logits, tau, g, hard=False)
        (grad_soft,) = torch.autograd.grad((w * soft_only).sum(), logits)
        out["grad_err"] = max(out["grad_err"], (grad_hard - grad_soft).abs().max().item())
    p = torch.tensor([0.5, 0.25, 0.15, 0.1], dtype=torch.float64)
    n = 40000
    draws = (p.log() + gumbel_noise(torch.Size([n, 4]), gen, p)).argmax(-1)
    freq = torch.bincount(draws, minlength=4).double() / n
    out["gumbel_max_err"] = (freq - p).abs().max().item()
    out["gumbel_max_bound"] = 5 * math.sqrt(0.25 / n)  # 5 standard errors at worst (p = 1/2)
    return out


# ----------------------------------------------------------------------------- the demo


def run(ctx: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    from labdeck.demos.cache import load_or_train

    p, emit, dev = ctx.params, ctx.emit, ctx.device
    kind, K, L, D = p["quantizer"], p["codebook"], p["tokens"], p["code_dim"]
    beta, tau_min = p["beta"], p["tau_min"]
    x_train, x_test, _, y_test = load_data(ctx.seed)
    xt, xv = x_train.to(dev), x_test.to(dev)
    emit.text(
        f"{len(x_train)} training and {len(x_test)} test digits (8x8, binarised). Each digit -> "
        f"{L} tokens from a codebook of {K} vectors in R^{D}; quantizer {kind} "
        + (
            f"(straight-through, commitment beta {beta:g})"
            if kind == "vq"
            else f"(hard Gumbel-softmax, tau 1 -> {tau_min:g}, KL weight beta {beta:g})"
        )
        + f"; {p['epochs']} epochs."
    )

    def loss_terms(model: DiscreteAE, xb: Tensor, tau: float, gen: torch.Generator) -> Tensor:
        h = model.encode(xb)
        if kind == "vq":
            z_q, e_k, _ = vector_quantise(h, model.codebook)
            codebook = (h.detach() - e_k).pow(2).sum((1, 2))  # || sg(z_e) - e ||^2
            commit = (h - e_k.detach()).pow(2).sum((1, 2))  # || z_e - sg(e) ||^2
            reg = codebook + beta * commit
        else:
            y, _ = gumbel_softmax(h, tau, gumbel_noise(h.shape, gen, h), hard=True)
            z_q = y @ model.codebook
            q = h.log_softmax(-1)
            reg = beta * (q.exp() * (q + math.log(K))).sum((1, 2))  # KL(q || uniform)
        logits = model.decoder(z_q.flatten(1))
        out: Tensor = (recon_nll(logits, xb) + reg).mean()
        return out

    def fit(model: DiscreteAE) -> dict[str, Any]:
        torch.manual_seed(ctx.seed)
        gen = torch.Generator().manual_seed(ctx.seed)
        if kind == "vq":  # start the codes on encoder outputs (random codes far away die)
            with torch.no_grad():
                pick = torch.randint(0, len(xt), (K,), generator=gen).to(dev)
                slot = torch.randint(0, L, (K,), generator=gen).to(dev)
                model.codebook.copy_(model.encode(xt[pick])[torch.arange(K, device=dev), slot])
        opt = optim.Adam(model.parameters(), lr=p["lr"])
        epochs, batch = p["epochs"], 128
        total = epochs * math.ceil(len(xt) / batch)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total)
        xs: list[int] = []
        ys: list[float] = []
        step, t0 = 0, time.perf_counter()
        for epoch in range(1, epochs + 1):
            perm = torch.randperm(len(xt), generator=gen).to(dev)
            running = 0.0
            for i in range(0, len(xt), batch):
                tau = tau_min ** (step / max(1, total - 1))  # 1 -> tau_min, geometric
                loss = loss_terms(model, xt[perm[i : i + batch]], tau, gen)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sched.step()
                step += 1
                running += loss.item() * min(batch, len(xt) - i)
            xs.append(epoch)
            ys.append(running / len(xt))
            emit.progress(epoch, epochs, "training")
        return {"x": xs, "y": ys, "seconds": time.perf_counter() - t0}

    training = {k: p[k] for k in ("quantizer", "codebook", "tokens", "code_dim", "beta")}
    training.update({k: p[k] for k in ("tau_min", "epochs", "hidden", "lr")})
    model = DiscreteAE(kind, L, K, D, p["hidden"]).to(dev)
    fitted = load_or_train(ctx, training, model, fit)
    model.eval()
    emit.series("training loss", fitted["x"], fitted["y"], "epoch", "nats / image")

    # --- evaluation: deterministic codes ---------------------------------------------------
    with torch.no_grad():
        idx_test, idx_train = model.codes_of(xv), model.codes_of(xt)
        logits = model.decode_codes(idx_test)
        rec = recon_nll(logits, xv).mean().item()
        bits_wrong = ((logits > 0).float() != xv).float().sum(1).mean().item()
        recon = torch.sigmoid(logits).cpu()
        gen = torch.Generator().manual_seed(ctx.seed + 1)
        prior = torch.randint(0, K, (8, L), generator=gen).to(dev)
        prior_img = torch.sigmoid(model.decode_codes(prior)).cpu()
    baseline = mean_image_baseline(x_train, x_test)
    usage = torch.bincount(idx_train.flatten().cpu(), minlength=K).double()
    usage = usage / usage.sum()
    nz = usage[usage > 0]
    perplexity = math.exp(-(nz * nz.log()).sum().item())
    dead = int((usage == 0).sum())
    distinct = len({tuple(r) for r in idx_test.cpu().tolist()})
    rate = L * math.log(K)
    emit.table(
        "test set (nats per image; binarised pixels: the floor is 0)",
        ["quantity", "value"],
        [
            ["reconstruction -log p(x | codes)", f"{rec:.2f}"],
            ["floor (a perfect decoder on binary pixels)", "0.00"],
            ["mean-image baseline (ignores x)", f"{baseline:.2f}"],
            ["pixels wrong per image, of 64 (at p > 1/2)", f"{bits_wrong:.2f}"],
            [f"code capacity L log K = {L} log {K}", f"{rate:.2f}"],
            ["-ELBO, uniform prior: recon. + L log K", f"{rec + rate:.2f}"],
            [f"codebook perplexity exp H(usage), K = {K}", f"{perplexity:.1f}"],
            ["dead codes (never chosen, training set)", f"{dead} of {K}"],
            [f"distinct codes of the {len(x_test)} test digits", str(distinct)],
        ],
    )
    n_show = 16
    # each cell: a test digit, a blank column, its reconstruction from the codes alone
    pairs = torch.cat(
        [x_test[:n_show].view(-1, 8, 8), torch.zeros(n_show, 8, 1), recon[:n_show].view(-1, 8, 8)],
        dim=2,
    )
    captions = [
        f"{int(y)}: " + " ".join(map(str, r))
        for y, r in zip(y_test[:n_show], idx_test[:n_show].cpu().tolist(), strict=True)
    ]
    emit.image(
        "test digits | their reconstructions from the codes alone; caption: digit: codes",
        grid=[pairs.clamp(0, 1).tolist()],
        labels=[captions],
    )
    emit.image(
        "decoded random codes (uniform prior): a VQ-VAE needs a learned prior over tokens",
        grid=[prior_img.reshape(-1, 8, 8).clamp(0, 1).tolist()],
        labels=[[" ".join(map(str, r)) for r in prior.cpu().tolist()]],
    )
    emit.series(
        "code usage (training set)",
        list(range(K)),
        usage.tolist(),
        "code",
        "share",
    )

    # --- exactness (fp64 on tiny tensors, and the trained quantiser) -------------------------
    cgen = torch.Generator().manual_seed(ctx.seed + 2)
    st = check_straight_through(cgen)
    with torch.no_grad():
        h_test = model.encode(xv)
        # vq: the trained encoder's outputs; gumbel (codes chosen by argmax logits): random
        # probes on the codebook's scale
        probes = h_test
        if kind == "gumbel":
            probe = torch.randn(len(xv), L, D, generator=cgen).to(dev)
            probes = model.codebook.std() * probe
    mismatches = check_argmin(probes, model.codebook.detach())
    gs = check_gumbel(cgen)
    emit.table(
        "exactness (fp64)",
        ["check", "value"],
        [
            ["ST: grad at z_e vs grad at z_q, max |diff|", f"{st['grad_err']:.1e}"],
            ["ST: forward value vs the code, max |diff|", f"{st['value_err']:.1e}"],
            ["codebook grad from the reconstruction", f"{st['codebook_grad']:.1e}"],
            ["nearest code vs torch.cdist argmin, mismatches", str(mismatches)],
            ["hard Gumbel-softmax vs one-hot, max |diff|", f"{gs['one_hot_err']:.1e}"],
            ["hard Gumbel grad vs soft grad, max |diff|", f"{gs['grad_err']:.1e}"],
            [
                "Gumbel-max frequency vs softmax, 40000 draws",
                f"{gs['gumbel_max_err']:.4f}",
            ],
        ],
    )
    if kind == "gumbel":
        emit.text(
            "The hard sample is one-hot up to rounding: one_hot - sg(y) + y adds and subtracts "
            "y, so the 1 may come out 1 - 2^-53 in float64."
        )

    metrics = {
        "train_seconds": fitted["seconds"],
        "final_train_loss": fitted["y"][-1],
        "test_recon_nats": rec,
        "baseline_nats": baseline,
        "pixels_wrong": bits_wrong,
        "rate_nats": rate,
        "neg_elbo_uniform_prior": rec + rate,
        "perplexity": perplexity,
        "dead_codes": dead,
        "distinct_test_codes": distinct,
        "st_grad_err": st["grad_err"],
        "st_value_err": st["value_err"],
        "st_codebook_grad": st["codebook_grad"],
        "argmin_mismatches": mismatches,
        **{f"gumbel_{k}": v for k, v in gs.items()},
    }
    checks = {
        "exact_straight_through_gradient": at_most(st["grad_err"], 0.0, EXACT),
        "exact_straight_through_forward_is_the_code": at_most(st["value_err"], 1e-14, EXACT),
        "exact_codebook_gets_no_reconstruction_gradient": at_most(st["codebook_grad"], 0, EXACT),
        "exact_quantizer_is_cdist_argmin": at_most(mismatches, 0, EXACT),
        "exact_gumbel_hard_is_one_hot": at_most(gs["one_hot_err"], 4e-16, EXACT),
        "exact_gumbel_hard_gradient_is_soft": at_most(gs["grad_err"], 0.0, EXACT),
        "exact_gumbel_max_matches_softmax": at_most(
            gs["gumbel_max_err"], gs["gumbel_max_bound"], EXACT
        ),
        "reconstruction_nats": at_most(rec, 14.0),
        "beats_mean_image_baseline": at_most(rec / baseline, 0.6),
        "codebook_perplexity": at_least(perplexity, 0.25 * K),
        "few_dead_codes": at_most(dead / K, 0.5),
        "codes_tell_digits_apart": is_true(
            distinct >= 0.5 * len(x_test), f">= {len(x_test) // 2} distinct code sequences"
        ),
    }
    return metrics, checks

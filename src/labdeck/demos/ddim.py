"""DDPM training and DDPM vs DDIM sampling on a 2-D toy dataset.

Forward (noising) process, T = 1000, linear betas 1e-4 .. 0.02:
    q(x_t | x_0) = N(sqrt(abar_t) x_0, (1 - abar_t) I),   abar_t = prod_{s<=t} (1 - beta_s)
    so x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps,  eps ~ N(0, I)
Simplified DDPM loss (Ho et al., 2020):  L = E_{t, x_0, eps} || eps - eps_theta(x_t, t) ||^2

DDPM ancestral sampling, t = T-1 .. 0 (posterior variance sigma_t^2 = beta~_t):
    x_{t-1} = 1/sqrt(alpha_t) (x_t - beta_t / sqrt(1 - abar_t) eps_theta(x_t, t)) + sigma_t z
    beta~_t = (1 - abar_{t-1}) / (1 - abar_t) beta_t

DDIM (Song et al., 2021, eq. 12), from step t to an earlier step p (any subsequence of steps):
    x0_hat = (x_t - sqrt(1 - abar_t) eps) / sqrt(abar_t)                    "predicted x_0"
    sigma  = eta sqrt((1 - abar_p) / (1 - abar_t)) sqrt(1 - abar_t / abar_p)
    x_p    = sqrt(abar_p) x0_hat + sqrt(1 - abar_p - sigma^2) eps + sigma z
eta = 0 is deterministic (an ODE-like map from noise to data); eta = 1 over every step is DDPM.
The last step goes to abar = 1 (the clean data), where sigma = 0.
"""

from __future__ import annotations

import copy
import math
import time
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from labdeck.demos import optim
from labdeck.demos.events import EXACT, at_least, at_most, is_true

T = 1000
DDIM_STEPS = (50, 20, 10)  # the step sweep, next to the headline --steps / --eta sampler


def schedule(dtype: torch.dtype = torch.float64) -> dict[str, Tensor]:
    betas = torch.linspace(1e-4, 0.02, T, dtype=torch.float64)
    alphas = 1.0 - betas
    abar = torch.cumprod(alphas, 0)
    return {k: v.to(dtype) for k, v in {"betas": betas, "alphas": alphas, "abar": abar}.items()}


# ----------------------------------------------------------------------------- data


def make_pool(name: str, n: int, seed: int) -> np.ndarray:
    """One large pool of points, standardised; train and held-out sets are random subsets of it.

    Two moons (as sklearn's make_moons, noise 0.05): the upper half circle (cos s, sin s) and the
    lower one (1 - cos s, 1/2 - sin s), s in [0, pi]. Swiss roll (as make_swiss_roll's x-z plane,
    noise 0.3): t (cos t, sin t), t = 3 pi / 2 (1 + 2 u). Written out here so the demo does not
    pay for importing scikit-learn (about 0.9 s of its 10 s budget)."""
    rng = np.random.default_rng(seed)
    if name == "moons":
        half = n // 2
        s_out = np.linspace(0.0, np.pi, n - half)
        s_in = np.linspace(0.0, np.pi, half)
        x = np.concatenate(
            [
                np.stack([np.cos(s_out), np.sin(s_out)], 1),
                np.stack([1.0 - np.cos(s_in), 0.5 - np.sin(s_in)], 1),
            ]
        )
        x = x + rng.normal(0.0, 0.05, x.shape)
    else:
        t = 1.5 * np.pi * (1.0 + 2.0 * rng.random(n))
        x = np.stack([t * np.cos(t), t * np.sin(t)], 1) + rng.normal(0.0, 0.3, (n, 2))
    x = (x - x.mean(0)) / x.std(0)
    out: np.ndarray = x[rng.permutation(n)].astype(np.float32)
    return out


# ----------------------------------------------------------------------------- the model


def timestep_embedding(t: Tensor, dim: int) -> Tensor:
    """Sinusoidal embedding of integer steps: [sin(t w_i), cos(t w_i)], w_i = 10000^(-i/(d/2))."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, device=t.device) / half)
    angles = t.to(freqs.dtype)[:, None] * freqs[None, :]
    return torch.cat([torch.sin(angles), torch.cos(angles)], dim=-1)


class NoiseMLP(nn.Module):
    """eps_theta(x_t, t): an MLP on [x_t, embed(t)] with SiLU; the embedding is added per layer."""

    def __init__(self, hidden: int = 64, t_dim: int = 32) -> None:
        super().__init__()
        self.t_dim = t_dim
        self.inp = nn.Linear(2, hidden)
        self.t_proj = nn.Sequential(nn.Linear(t_dim, hidden), nn.SiLU(), nn.Linear(hidden, hidden))
        self.blocks = nn.ModuleList([nn.Linear(hidden, hidden) for _ in range(3)])
        self.out = nn.Linear(hidden, 2)
        self.act = nn.SiLU()

    def forward(self, x: Tensor, t: Tensor) -> Tensor:
        temb = self.t_proj(timestep_embedding(t, self.t_dim).to(x.dtype))
        h = self.act(self.inp(x) + temb)
        for block in self.blocks:
            h = h + self.act(block(h))  # residual MLP blocks
        out: Tensor = self.out(h)
        return out


class CountingModel:
    """Wraps eps_theta to count model calls (one call = one batched network evaluation)."""

    def __init__(self, model: nn.Module) -> None:
        self.model, self.calls = model, 0

    def __call__(self, x: Tensor, t: int) -> Tensor:
        self.calls += 1
        out: Tensor = self.model(x, torch.full((x.shape[0],), t, device=x.device, dtype=torch.long))
        return out


# ----------------------------------------------------------------------------- samplers


def ddim_step(
    x: Tensor, eps: Tensor, abar_t: float, abar_p: float, eta: float, z: Tensor | None
) -> Tensor:
    """One DDIM update from step t to the earlier step p (Song et al. 2021, eq. 12)."""
    x0_hat = (x - math.sqrt(1.0 - abar_t) * eps) / math.sqrt(abar_t)
    sigma = eta * math.sqrt((1.0 - abar_p) / (1.0 - abar_t)) * math.sqrt(1.0 - abar_t / abar_p)
    x_prev = math.sqrt(abar_p) * x0_hat + math.sqrt(max(1.0 - abar_p - sigma**2, 0.0)) * eps
    if sigma > 0:
        assert z is not None, "eta > 0 needs noise"
        x_prev = x_prev + sigma * z
    return x_prev


def ddim_timesteps(steps: int) -> list[int]:
    """Evenly spaced steps ending the chain at abar = 1 ('trailing': T-1, T-1-T/S, ...)."""
    return [round(T - i * T / steps) - 1 for i in range(steps)]


@torch.no_grad()
def ddim_sample(
    model: Any,
    x_T: Tensor,
    steps: int,
    eta: float,
    noise: Tensor | None = None,
    gen: torch.Generator | None = None,
) -> Tensor:
    """Sample with ``steps`` model calls. ``noise[i]`` is the z used at the i-th step (if given)."""
    abar = schedule()["abar"].tolist()
    ts = ddim_timesteps(steps)
    x = x_T
    for i, t in enumerate(ts):
        p = ts[i + 1] if i + 1 < len(ts) else -1
        abar_p = abar[p] if p >= 0 else 1.0  # past the last step: clean data, abar = 1
        eps = model(x, t)
        z = None
        if eta > 0:
            z = noise[i] if noise is not None else torch.randn(x.shape, generator=gen).to(x)
        x = ddim_step(x, eps, abar[t], abar_p, eta, z)
    return x


@torch.no_grad()
def ddpm_sample(
    model: Any, x_T: Tensor, noise: Tensor | None = None, gen: torch.Generator | None = None
) -> Tensor:
    """Ancestral sampling through all T steps with sigma_t^2 = beta~_t (posterior variance)."""
    s = schedule()
    betas, alphas, abar = s["betas"].tolist(), s["alphas"].tolist(), s["abar"].tolist()
    x = x_T
    for i, t in enumerate(range(T - 1, -1, -1)):
        eps = model(x, t)
        mean = (x - betas[t] / math.sqrt(1.0 - abar[t]) * eps) / math.sqrt(alphas[t])
        abar_prev = abar[t - 1] if t > 0 else 1.0
        var = (1.0 - abar_prev) / (1.0 - abar[t]) * betas[t]  # beta~_t, 0 at t = 0
        if var > 0:
            z = noise[i] if noise is not None else torch.randn(x.shape, generator=gen).to(x)
            x = mean + math.sqrt(var) * z
        else:
            x = mean
    return x


def ddim_step_reference(
    x: list[float], eps: list[float], abar_t: float, abar_p: float, eta: float, z: list[float]
) -> list[float]:
    """Eq. 12 of the DDIM paper transcribed element by element in plain Python floats."""
    out = []
    for xi, ei, zi in zip(x, eps, z, strict=True):
        pred_x0 = (xi - (1 - abar_t) ** 0.5 * ei) / abar_t**0.5
        sigma = eta * ((1 - abar_p) / (1 - abar_t) * (1 - abar_t / abar_p)) ** 0.5
        direction = (1 - abar_p - sigma**2) ** 0.5 * ei
        out.append(abar_p**0.5 * pred_x0 + direction + sigma * zi)
    return out


# ----------------------------------------------------------------------------- quality


def mmd2_unbiased(x: Tensor, y: Tensor, bandwidth: float) -> float:
    """Unbiased MMD^2 with k(a, b) = exp(-|a - b|^2 / (2 h^2)); diagonal terms excluded."""
    x, y = x.double(), y.double()

    def k(a: Tensor, b: Tensor) -> Tensor:
        return torch.exp(-torch.cdist(a, b).pow(2) / (2 * bandwidth**2))

    m, n = len(x), len(y)
    kxx, kyy, kxy = k(x, x), k(y, y), k(x, y)
    return (
        (kxx.sum() - kxx.diagonal().sum()) / (m * (m - 1))
        + (kyy.sum() - kyy.diagonal().sum()) / (n * (n - 1))
        - 2 * kxy.mean()
    ).item()


def mean_nn_distance(samples: Tensor, reference: Tensor) -> float:
    """Mean distance from each generated point to its nearest held-out point."""
    return torch.cdist(samples.double(), reference.double()).min(dim=1).values.mean().item()


# ----------------------------------------------------------------------------- the demo


def train(
    model: NoiseMLP,
    data: Tensor,
    steps: int,
    batch: int,
    lr: float,
    emit: Any,
    gen: torch.Generator,
) -> tuple[NoiseMLP, list[int], list[float]]:
    abar = schedule(torch.float32)["abar"].to(data.device)
    opt = optim.Adam(model.parameters(), lr=lr, fused=True)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps, eta_min=lr * 0.05)
    # Exponential moving average of the weights (sampled from; steadier than the raw weights):
    # theta_ema <- theta_ema + (1 - decay) (theta - theta_ema)
    ema = copy.deepcopy(model).eval().requires_grad_(False)
    ema_params, params = list(ema.parameters()), list(model.parameters())
    decay = 0.995
    xs: list[int] = []
    ys: list[float] = []
    running = 0.0
    every = max(1, steps // 100)
    for step in range(1, steps + 1):
        idx = torch.randint(0, len(data), (batch,), generator=gen).to(data.device)
        x0 = data[idx]
        t = torch.randint(0, T, (batch,), generator=gen).to(data.device)
        eps = torch.randn(x0.shape, generator=gen).to(data.device)
        a = abar[t][:, None]
        x_t = a.sqrt() * x0 + (1 - a).sqrt() * eps  # sample q(x_t | x_0) in one shot
        loss = (model(x_t, t) - eps).pow(2).mean()  # || eps - eps_theta(x_t, t) ||^2
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        with torch.no_grad():
            for e, w in zip(ema_params, params, strict=True):
                e.lerp_(w, 1.0 - decay)
        running += loss.item()
        if step % every == 0:
            xs.append(step)
            ys.append(running / every)
            running = 0.0
            emit.progress(step, steps, "training eps_theta")
    return ema, xs, ys


def run(ctx: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    from labdeck.demos.cache import load_or_train

    p, emit, dev = ctx.params, ctx.emit, ctx.device
    gen = torch.Generator().manual_seed(ctx.seed + 1)  # sampling; training has its own
    n_samples = p["samples"]
    n_heldout = 2000
    pool = make_pool(p["dataset"], 20000 + n_heldout, ctx.seed)
    heldout = torch.from_numpy(pool[:n_heldout])
    data = torch.from_numpy(pool[n_heldout:]).to(dev)
    emit.text(
        f"{p['dataset']}: {len(data)} training points, {n_heldout} held out (random subsets of "
        f"one pool); T={T}, linear betas 1e-4..0.02; MLP width {p['hidden']}; "
        f"{p['train_steps']} training steps."
    )

    def fit(ema: nn.Module) -> dict[str, Any]:
        torch.manual_seed(ctx.seed)
        model = NoiseMLP(p["hidden"]).to(dev)
        tgen = torch.Generator().manual_seed(ctx.seed)
        t0 = time.perf_counter()
        trained, xs, ys = train(model, data, p["train_steps"], p["batch"], p["lr"], emit, tgen)
        ema.load_state_dict(trained.state_dict())
        return {"loss_x": xs, "loss_y": ys, "seconds": time.perf_counter() - t0}

    training = {k: p[k] for k in ("dataset", "train_steps", "hidden", "batch", "lr")}
    ema = NoiseMLP(p["hidden"]).to(dev)
    fitted = load_or_train(ctx, training, ema, fit)
    loss_x, loss_y, train_seconds = fitted["loss_x"], fitted["loss_y"], fitted["seconds"]
    ema.eval().requires_grad_(False)
    emit.series("training loss (MSE on eps)", loss_x, loss_y, xlabel="step", ylabel="loss")

    # --- sample with every method from the same starting noise ------------------------------
    x_T = torch.randn(n_samples, 2, generator=gen).to(dev)
    methods: list[tuple[str, int | None, float]] = [("DDPM", None, 1.0)]
    methods += [(f"DDIM-{s} eta={eta:g}", s, eta) for s in DDIM_STEPS for eta in (0.0, 1.0)]
    steps, eta = p["steps"], p["eta"]
    headline = f"DDIM-{steps} eta={eta:g}"
    if headline not in {m[0] for m in methods}:
        methods.insert(1, (headline, steps, eta))
    bandwidth = 0.2  # on standardised data (std 1 per axis)
    ref_mmd = mmd2_unbiased(heldout[:1000], heldout[1000:2000], bandwidth)
    ref_nn = mean_nn_distance(heldout[:1000], heldout[1000:])
    rows: list[list[Any]] = []
    results: dict[str, dict[str, Any]] = {}
    for i, (name, steps, eta) in enumerate(methods):
        emit.progress(i, len(methods), f"sampling {name}")
        counter = CountingModel(ema)
        start = time.perf_counter()
        if steps is None:
            out = ddpm_sample(counter, x_T, gen=gen)
        else:
            out = ddim_sample(counter, x_T, steps, eta, gen=gen)
        secs = time.perf_counter() - start
        out = out.cpu()
        mmd = mmd2_unbiased(out, heldout, bandwidth)
        nn_d = mean_nn_distance(out, heldout)
        results[name] = {
            "calls": counter.calls,
            "seconds": secs,
            "mmd2": mmd,
            "nn": nn_d,
            "samples": out,
        }
        rows.append([name, counter.calls, f"{secs:.2f}", f"{mmd:.4f}", f"{nn_d:.4f}"])
    emit.progress(len(methods), len(methods), "sampling done")
    rows.append(["held-out vs held-out", "-", "-", f"{ref_mmd:.4f}", f"{ref_nn:.4f}"])
    emit.table(
        f"{n_samples} samples per method vs {n_heldout} held-out points "
        f"(RBF bandwidth {bandwidth})",
        ["sampler", "model calls", "seconds", "MMD^2 (unbiased)", "mean NN distance"],
        rows,
    )
    show = 400  # points per scatter; each sampler is drawn over the same held-out points
    for name in dict.fromkeys(("DDPM", headline, "DDIM-10 eta=0")):
        s = results[name]["samples"][:show]
        emit.series("held-out", heldout[:show, 0].tolist(), heldout[:show, 1].tolist(),
                    kind="scatter", group=name)  # fmt: skip
        emit.series(name, s[:, 0].tolist(), s[:, 1].tolist(), kind="scatter", group=name)

    # --- exactness checks (fp64) -----------------------------------------------------------
    emit.progress(0, 3, "exactness checks")
    step_err = check_one_step(gen)
    model64 = CountingModel(_double_copy(ema))
    n_chk = 64
    xT64 = torch.randn(n_chk, 2, generator=gen, dtype=torch.float64).to(dev)
    z64 = torch.randn(T, n_chk, 2, generator=gen, dtype=torch.float64).to(dev)
    ddpm64 = ddpm_sample(model64, xT64, noise=z64)
    ddim64 = ddim_sample(model64, xT64, T, 1.0, noise=z64)
    eq_err = (ddpm64 - ddim64).abs().max().item()
    emit.progress(2, 3, "exactness checks")
    a = ddim_sample(CountingModel(ema), x_T, 50, 0.0, gen=torch.Generator().manual_seed(1))
    b = ddim_sample(CountingModel(ema), x_T, 50, 0.0, gen=torch.Generator().manual_seed(2))
    deterministic = bool(torch.equal(a, b))
    emit.progress(3, 3, "exactness checks")
    emit.table(
        "exactness (fp64)",
        ["check", "value"],
        [
            ["one DDIM step vs the paper's formula, max |diff|", f"{step_err:.2e}"],
            ["DDIM eta=1, all 1000 steps vs DDPM, same noise, max |diff|", f"{eq_err:.2e}"],
            ["DDIM eta=0 repeated (different RNG) is bit-identical", str(deterministic)],
        ],
    )

    ddpm, head, d50, d20, d10 = (
        results[k] for k in ("DDPM", headline, "DDIM-50 eta=0", "DDIM-20 eta=0", "DDIM-10 eta=0")
    )
    metrics: dict[str, Any] = {
        "train_seconds": train_seconds,
        "final_train_loss": loss_y[-1] if loss_y else float("nan"),
        "heldout_mmd2": ref_mmd,
        "heldout_nn": ref_nn,
        "ddim_step_max_err": step_err,
        "ddim_eta1_vs_ddpm_max_err": eq_err,
        "speedup_calls_ddim50": ddpm["calls"] / d50["calls"],
        "headline_mmd2": head["mmd2"],
        "headline_nn": head["nn"],
        "headline_calls": head["calls"],
        "headline_speedup_calls": ddpm["calls"] / head["calls"],
    }
    for name, r in results.items():
        key = name.lower().replace(" eta=", "_eta").replace("-", "")
        metrics[f"{key}_mmd2"] = r["mmd2"]
        metrics[f"{key}_nn"] = r["nn"]
        metrics[f"{key}_calls"] = r["calls"]
        metrics[f"{key}_seconds"] = r["seconds"]
    checks = {
        "ddim_step_matches_paper": at_most(step_err, 1e-12, EXACT),
        "ddim_eta1_all_steps_equals_ddpm": at_most(eq_err, 1e-6, EXACT),
        "ddim_eta0_deterministic": is_true(deterministic, "bit-identical", EXACT),
        "headline_mmd2": at_most(head["mmd2"], 0.015),
        "headline_call_speedup": at_least(metrics["headline_speedup_calls"], 20.0),
        "headline_nn_within_2x_ddpm": at_most(head["nn"] / ddpm["nn"], 2.0),
        "quality_worse_50_20_10": is_true(
            d50["nn"] < d20["nn"] < d10["nn"] and d50["mmd2"] < d10["mmd2"],
            "NN distance rises 50 -> 20 -> 10 steps and MMD^2(10) > MMD^2(50)",
        ),
    }
    return metrics, checks


def _double_copy(model: nn.Module) -> nn.Module:
    return copy.deepcopy(model).double().eval()


def check_one_step(gen: torch.Generator) -> float:
    """Our vectorised DDIM step vs the element-wise transcription, at several (t, p, eta)."""
    abar = schedule()["abar"].tolist()
    worst = 0.0
    for t, p_, eta in ((999, 979, 0.0), (500, 400, 0.5), (120, 20, 1.0), (19, -1, 1.0)):
        x = torch.randn(16, 2, generator=gen, dtype=torch.float64)
        eps = torch.randn(16, 2, generator=gen, dtype=torch.float64)
        z = torch.randn(16, 2, generator=gen, dtype=torch.float64)
        a_p = abar[p_] if p_ >= 0 else 1.0
        ours = ddim_step(x, eps, abar[t], a_p, eta, z)
        ref = ddim_step_reference(
            x.flatten().tolist(), eps.flatten().tolist(), abar[t], a_p, eta, z.flatten().tolist()
        )
        worst = max(
            worst, (ours.flatten() - torch.tensor(ref, dtype=torch.float64)).abs().max().item()
        )
    return worst

"""A variational autoencoder (Kingma & Welling, 2014) on scikit-learn's 8x8 digits.

Generative model:   z ~ p(z) = N(0, I),   x_i | z ~ Bernoulli(sigmoid(f_theta(z))_i)
Inference model:    q_phi(z | x) = N(mu_phi(x), diag(sigma_phi(x)^2))

Evidence lower bound (maximised; we minimise its negative, in nats per image):
    log p(x) >= ELBO(x) = E_{q(z|x)}[log p(x | z)] - KL(q(z|x) || p(z))
    -E_q[log p(x|z)] = sum_i BCEWithLogits(f(z)_i, x_i)       (binary pixels: x / 16 >= 0.5)
    KL = -1/2 sum_j (1 + log sigma_j^2 - mu_j^2 - sigma_j^2)   (closed form for Gaussians)

The digits are binarised so that the Bernoulli likelihood is a real likelihood: with grey pixels
in [0, 1] the cross-entropy never reaches 0 (its floor is the pixels' own entropy, ~14 nats per
image here), and the nats would not be log-probabilities of the data.

beta-VAE: the loss recon + beta KL is the -ELBO at beta = 1; beta > 1 pushes q(z|x) towards the
prior (fewer nats spent on the latent, blurrier reconstructions, eventually posterior collapse).

Reparameterisation: z = mu + sigma * eps, eps ~ N(0, I), so the Monte Carlo estimate of the
reconstruction term is differentiable in (mu, sigma) and gradients flow into the encoder.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from labdeck.demos import optim
from labdeck.demos.events import EXACT, at_least, at_most

N_TEST = 360  # of the 1797 bundled digits; the other 1437 train


def load_data(seed: int) -> tuple[Tensor, Tensor, np.ndarray, np.ndarray]:
    """Bundled sklearn digits (no download), binarised at half intensity, a seeded split."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = (digits.data / 16.0 >= 0.5).astype(np.float32)
    perm = np.random.default_rng(seed).permutation(len(x))
    test, train = perm[:N_TEST], perm[N_TEST:]
    return (
        torch.from_numpy(x[train]),
        torch.from_numpy(x[test]),
        digits.target[train],
        digits.target[test],
    )


class VAE(nn.Module):
    """One hidden layer each way (wider and shallower trains fastest on one CPU core)."""

    def __init__(self, d_in: int = 64, hidden: int = 512, latent: int = 8) -> None:
        super().__init__()
        self.latent = latent
        self.encoder = nn.Sequential(
            nn.Linear(d_in, hidden),
            nn.ReLU(),
            nn.Linear(hidden, 2 * latent),  # (mu, log s^2)
        )
        self.decoder = nn.Sequential(
            nn.Linear(latent, hidden),
            nn.ReLU(),
            nn.Linear(hidden, d_in),  # Bernoulli logits
        )

    def encode(self, x: Tensor) -> tuple[Tensor, Tensor]:
        mu, logvar = self.encoder(x).chunk(2, dim=-1)
        return mu, logvar

    def decode(self, z: Tensor) -> Tensor:
        out: Tensor = self.decoder(z)
        return out

    @staticmethod
    def reparameterise(mu: Tensor, logvar: Tensor) -> Tensor:
        return mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)  # z = mu + sigma * eps

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        mu, logvar = self.encode(x)
        return self.decode(self.reparameterise(mu, logvar)), mu, logvar


def kl_analytic(mu: Tensor, logvar: Tensor) -> Tensor:
    """KL(N(mu, sigma^2) || N(0, 1)) summed over latent dims, per example."""
    return -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(-1)


def kl_monte_carlo(mu: Tensor, logvar: Tensor, samples: int, gen: torch.Generator) -> Tensor:
    """E_q[log q(z|x) - log p(z)] estimated with ``samples`` draws per example."""
    std = torch.exp(0.5 * logvar)
    eps = torch.randn(samples, *mu.shape, generator=gen)
    z = mu + std * eps
    # log N(z; mu, s^2) - log N(z; 0, 1) = -1/2 eps^2 - log s + 1/2 z^2 (the 2 pi terms cancel)
    log_ratio = (-0.5 * eps.pow(2) - 0.5 * logvar + 0.5 * z.pow(2)).sum(-1)
    return log_ratio.mean(0)


def recon_nll(logits: Tensor, x: Tensor) -> Tensor:
    """-log p(x|z) for Bernoulli pixels, summed over pixels, per example (nats)."""
    return F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(-1)


@torch.no_grad()
def neg_elbo(model: VAE, x: Tensor, samples: int = 10) -> tuple[float, float, float]:
    """Mean test -ELBO, reconstruction term and KL (reconstruction averaged over z draws)."""
    mu, logvar = model.encode(x)
    rec = torch.stack(
        [recon_nll(model.decode(model.reparameterise(mu, logvar)), x) for _ in range(samples)]
    ).mean(0)
    kl = kl_analytic(mu, logvar)
    return (rec + kl).mean().item(), rec.mean().item(), kl.mean().item()


def mean_image_baseline(train: Tensor, test: Tensor) -> float:
    """-log p(x) of the best model that ignores x: independent Bernoulli(mean pixel)."""
    p = train.mean(0).clamp(1e-4, 1 - 1e-4)
    return recon_nll(torch.logit(p).expand_as(test), test).mean().item()


def run(ctx: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    from sklearn.linear_model import LogisticRegression

    from labdeck.demos.cache import load_or_train

    p, emit, dev = ctx.params, ctx.emit, ctx.device
    x_train, x_test, y_train, y_test = load_data(ctx.seed)
    emit.text(
        f"{len(x_train)} training and {len(x_test)} test digits (8x8, binarised at half intensity); "
        f"latent dim {p['latent']}, hidden {p['hidden']}, {p['epochs']} epochs, beta {p['beta']:g}."
    )
    xt, xv = x_train.to(dev), x_test.to(dev)
    beta = p["beta"]

    def fit(model: VAE) -> dict[str, Any]:
        torch.manual_seed(ctx.seed)
        gen = torch.Generator().manual_seed(ctx.seed)
        opt = optim.Adam(model.parameters(), lr=p["lr"], fused=True)
        epochs, batch = p["epochs"], p["batch"]
        steps_per_epoch = math.ceil(len(x_train) / batch)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs * steps_per_epoch)
        curve_x: list[int] = []
        curve_train: list[float] = []
        test_x: list[int] = []
        curve_test: list[float] = []
        for epoch in range(1, epochs + 1):
            model.train()
            perm = torch.randperm(len(xt), generator=gen).to(dev)
            total = 0.0
            for i in range(0, len(xt), batch):
                xb = xt[perm[i : i + batch]]
                logits, mu, logvar = model(xb)
                # recon + beta KL: the -ELBO per image at beta = 1
                loss = (recon_nll(logits, xb) + beta * kl_analytic(mu, logvar)).mean()
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sched.step()
                total += loss.item() * len(xb)
            curve_x.append(epoch)
            curve_train.append(total / len(xt))
            if epoch % max(1, epochs // 20) == 0 or epoch == epochs:
                model.eval()
                test_x.append(epoch)
                curve_test.append(neg_elbo(model, xv, samples=1)[0])
                emit.metric("train_loss", curve_train[-1], step=epoch)
            emit.progress(epoch, epochs, "training")
        return {"x": curve_x, "train": curve_train, "test_x": test_x, "test": curve_test}

    training = {k: p[k] for k in ("epochs", "latent", "hidden", "batch", "lr", "beta")}
    model = VAE(64, p["hidden"], p["latent"]).to(dev)
    curves = load_or_train(ctx, training, model, fit)
    curve_x, curve_train = curves["x"], curves["train"]
    test_x, curve_test = curves["test_x"], curves["test"]
    torch.manual_seed(ctx.seed + 1)  # evaluation draws are the same whether trained or cached
    gen = torch.Generator().manual_seed(ctx.seed + 1)
    train_name = "train -ELBO" if beta == 1.0 else f"train recon + {beta:g} KL"

    model.eval()
    emit.series(
        train_name, curve_x, curve_train, xlabel="epoch", ylabel="nats / image", group="loss"
    )
    emit.series(
        "test -ELBO", test_x, curve_test, xlabel="epoch", ylabel="nats / image", group="loss"
    )

    test_nelbo, test_rec, test_kl = neg_elbo(model, xv, samples=20)
    baseline = mean_image_baseline(x_train, x_test)

    with torch.no_grad():
        mu, logvar = model.encode(xv)
        recon = torch.sigmoid(model.decode(mu)).cpu()  # mean reconstruction from z = mu
        kl_exact = kl_analytic(mu, logvar).mean().item()
        kl_mc = kl_monte_carlo(mu.cpu(), logvar.cpu(), 2000, gen).mean().item()
        prior = torch.sigmoid(model.decode(torch.randn(16, p["latent"], generator=gen).to(dev)))
        # Walk in latent space between two test digits of different classes.
        i0 = int(np.flatnonzero(y_test == 0)[0])
        i1 = int(np.flatnonzero(y_test == 6)[0]) if (y_test == 6).any() else 1
        lam = torch.linspace(0, 1, 8, device=dev)[:, None]
        walk = torch.sigmoid(model.decode((1 - lam) * mu[i0] + lam * mu[i1])).cpu()

    clf = LogisticRegression(max_iter=3000)
    clf.fit(x_train.numpy(), y_train)
    acc_real = float(clf.score(x_test.numpy(), y_test))
    acc_recon = float(clf.score(recon.numpy(), y_test))

    def grid(images: Tensor, cols: int = 8) -> list[list[list[list[float]]]]:
        imgs = images.reshape(-1, 8, 8).clamp(0, 1).tolist()
        return [imgs[r : r + cols] for r in range(0, len(imgs), cols)]

    emit.image(
        "test digits (top) and their reconstructions (bottom)",
        grid=grid(x_test[:8]) + grid(recon[:8]),
    )
    emit.image("samples from the prior z ~ N(0, I)", grid=grid(prior.cpu()))
    emit.image(f"latent interpolation: a {y_test[i0]} turning into a {y_test[i1]}", grid=grid(walk))
    emit.table(
        "test set (nats per image)",
        ["quantity", "value"],
        [
            ["-ELBO", f"{test_nelbo:.2f}"],
            ["reconstruction -E[log p(x|z)]", f"{test_rec:.2f}"],
            ["KL(q(z|x) || p(z))", f"{test_kl:.2f}"],
            ["mean-image baseline -log p(x)", f"{baseline:.2f}"],
            ["KL analytic vs Monte Carlo (2000 draws)", f"{kl_exact:.4f} vs {kl_mc:.4f}"],
            ["classifier accuracy on real / reconstructed", f"{acc_real:.3f} / {acc_recon:.3f}"],
        ],
    )

    metrics = {
        "test_neg_elbo": test_nelbo,
        "test_recon": test_rec,
        "test_kl": test_kl,
        "baseline_neg_log_lik": baseline,
        "kl_analytic": kl_exact,
        "kl_monte_carlo": kl_mc,
        "classifier_acc_real": acc_real,
        "classifier_acc_recon": acc_recon,
        "final_train_neg_elbo": curve_train[-1],
    }
    checks = {
        "test_neg_elbo": at_most(test_nelbo, 21.0),
        "beats_mean_image_baseline": at_most(test_nelbo - baseline, 0.0),
        "kl_in_use": at_least(test_kl, 1.0),
        "recognisable_reconstructions": at_least(acc_recon, 0.75),
        "kl_analytic_matches_monte_carlo": at_most(
            abs(kl_exact - kl_mc) / (1.0 + kl_exact), 0.01, EXACT
        ),
    }
    return metrics, checks

"""Parameter-efficient fine-tuning: LoRA vs a bottleneck adapter vs full fine-tuning.

An MLP is pretrained on task A (classify 8x8 digits) and adapted to task B (the same digits
transposed, or with inverted ink) with three methods:

LoRA (Hu et al., 2021): freeze every weight W (d_out x d_in) and learn a low-rank update
    W' = W + (alpha / r) B A,   A: r x d_in (random init),  B: d_out x r (zero init)
    so at the start B A = 0 and the model is exactly the pretrained one. Trainable parameters
    per adapted layer: r (d_in + d_out) instead of d_in d_out. After training the update can be
    merged, W' = W + (alpha / r) B A, giving a plain layer with no extra inference cost; or kept
    apart and switched off to get the base model (and task A) back exactly.
Bottleneck adapter (Houlsby et al., 2019): after a hidden layer insert
    h -> h + W_up f(W_down h + b_down) + b_up,   W_down: m x d, W_up: d x m (zero init)
    with 2 d m + d + m parameters; it adds layers (a little inference latency) and, like LoRA,
    starts as the identity.
Full fine-tuning: every parameter is trained; the task-A model is overwritten.
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
from labdeck.demos.events import at_least, at_most, exact, is_true

HIDDEN = 256
RANKS = (1, 2, 4, 8)


# ----------------------------------------------------------------------------- the pieces


class LoRALinear(nn.Module):
    """y = W x + b + (alpha / r) B (A x), with W and b frozen."""

    def __init__(self, base: nn.Linear, r: int, alpha: float, gen: torch.Generator) -> None:
        super().__init__()
        self.base = base.requires_grad_(False)
        self.r, self.scale = r, alpha / r
        d_out, d_in = base.weight.shape
        bound = 1 / math.sqrt(d_in)  # the Kaiming-uniform range nn.Linear uses
        self.A = nn.Parameter((torch.rand(r, d_in, generator=gen) * 2 - 1) * bound)
        self.B = nn.Parameter(torch.zeros(d_out, r))

    def forward(self, x: Tensor) -> Tensor:
        out: Tensor = self.base(x) + self.scale * (x @ self.A.T) @ self.B.T
        return out

    def merged(self) -> nn.Linear:
        """A plain layer with W + (alpha / r) B A."""
        out = copy.deepcopy(self.base)
        with torch.no_grad():
            out.weight += self.scale * self.B @ self.A
        return out


class Adapter(nn.Module):
    """h + W_up relu(W_down h + b_down) + b_up, with W_up and b_up zero-initialised."""

    def __init__(self, d: int, m: int) -> None:
        super().__init__()
        self.down, self.up = nn.Linear(d, m), nn.Linear(m, d)
        nn.init.zeros_(self.up.weight)
        nn.init.zeros_(self.up.bias)

    def forward(self, h: Tensor) -> Tensor:
        out: Tensor = h + self.up(F.relu(self.down(h)))
        return out


def base_mlp() -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(64, HIDDEN),
        nn.ReLU(),
        nn.Linear(HIDDEN, HIDDEN),
        nn.ReLU(),
        nn.Linear(HIDDEN, 10),
    )


def with_lora(base: nn.Sequential, r: int, alpha: float, gen: torch.Generator) -> nn.Sequential:
    """A copy of ``base`` whose every Linear is wrapped by LoRA (base weights frozen)."""
    model = copy.deepcopy(base)
    for i, layer in enumerate(model):
        if isinstance(layer, nn.Linear):
            model[i] = LoRALinear(layer, r, alpha, gen)
    return model


def merge(model: nn.Sequential) -> nn.Sequential:
    return nn.Sequential(*(m.merged() if isinstance(m, LoRALinear) else m for m in model))


def with_adapters(base: nn.Sequential, m: int) -> nn.Sequential:
    """A frozen copy of ``base`` with an adapter after each hidden ReLU."""
    frozen = copy.deepcopy(base).requires_grad_(False)
    layers: list[nn.Module] = []
    for layer in frozen:
        layers.append(layer)
        if isinstance(layer, nn.ReLU):
            layers.append(Adapter(HIDDEN, m))
    return nn.Sequential(*layers)


def trainable(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


# ----------------------------------------------------------------------------- data, training


def load_tasks(task_b: str, gen: torch.Generator) -> dict[str, Tensor]:
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = torch.tensor(digits.data, dtype=torch.float32) / 16.0
    y = torch.tensor(digits.target)
    # transpose: the image mirrored about its diagonal; invert: dark ink on a light background
    xb = x.view(-1, 8, 8).transpose(1, 2).reshape(-1, 64) if task_b == "transpose" else 1.0 - x
    perm = torch.randperm(len(x), generator=gen)
    tr, te = perm[:1437], perm[1437:]
    return {"xa": x[tr], "xb": xb[tr], "y": y[tr], "xa_te": x[te], "xb_te": xb[te], "y_te": y[te]}


def fit(
    model: nn.Module, x: Tensor, y: Tensor, steps: int, lr: float, gen: torch.Generator
) -> None:
    params = [p for p in model.parameters() if p.requires_grad]
    opt = optim.Adam(params, lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    model.train()
    for _ in range(steps):
        idx = torch.randint(0, len(x), (128,), generator=gen)
        loss = F.cross_entropy(model(x[idx]), y[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
    model.eval()


def accuracy(model: nn.Module, x: Tensor, y: Tensor) -> float:
    with torch.no_grad():
        return float((model(x).argmax(-1) == y).float().mean().item())


# ----------------------------------------------------------------------------- the demo


def run(ctx: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    p, emit = ctx.params, ctx.emit  # tiny MLPs: CPU throughout
    gen = torch.Generator().manual_seed(ctx.seed)
    d = load_tasks(p["task_b"], gen)
    alpha, steps, lr = p["alpha"], p["adapt_steps"], p["lr"]

    t0 = time.perf_counter()
    base = base_mlp()
    fit(base, d["xa"], d["y"], p["pretrain_steps"], 3e-3, gen)
    base.requires_grad_(False)
    base_a = accuracy(base, d["xa_te"], d["y_te"])
    base_b = accuracy(base, d["xb_te"], d["y_te"])
    dense = sum(layer.weight.numel() for layer in base if isinstance(layer, nn.Linear))
    total = sum(q.numel() for q in base.parameters())
    emit.text(
        f"Base MLP 64-{HIDDEN}-{HIDDEN}-10 ({total} parameters) pretrained on task A (digits): "
        f"test accuracy {base_a:.3f} on A, {base_b:.3f} on task B ({p['task_b']} digits) "
        f"before adaptation. Each method then trains {steps} steps on B."
    )

    rows: list[list[Any]] = []
    acc_b: dict[str, float] = {}
    counts: dict[str, int] = {}
    snapshot = [q.detach().clone() for q in base.parameters()]
    ranks = sorted({*RANKS, p["rank"]})
    lora_models = {}
    count_ok = True
    for i, r in enumerate(ranks):
        model = with_lora(base, r, alpha, gen)
        expected = sum(
            r * (layer.weight.shape[0] + layer.weight.shape[1])
            for layer in base
            if isinstance(layer, nn.Linear)
        )
        count_ok &= trainable(model) == expected
        if r == p["rank"]:  # B = 0 at the start: exactly the base model
            with torch.no_grad():
                start_err = (model(d["xb_te"]) - base(d["xb_te"])).abs().max().item()
        fit(model, d["xb"], d["y"], steps, lr, gen)
        lora_models[r] = model
        acc_b[f"lora_r{r}"] = accuracy(model, d["xb_te"], d["y_te"])
        counts[f"lora_r{r}"] = trainable(model)
        rows.append(
            [
                f"LoRA r={r}",
                counts[f"lora_r{r}"],
                f"r(d+k) = {expected}",
                acc_b[f"lora_r{r}"],
                base_a,
            ]
        )
        emit.progress(i + 1, len(ranks) + 2, "adapting")

    adapter = with_adapters(base, p["adapter_size"])
    m = p["adapter_size"]
    adapter_expected = 2 * (2 * HIDDEN * m + HIDDEN + m)
    adapter_count_ok = trainable(adapter) == adapter_expected
    with torch.no_grad():
        adapter_start_err = (adapter(d["xb_te"]) - base(d["xb_te"])).abs().max().item()
    fit(adapter, d["xb"], d["y"], steps, lr, gen)
    acc_b["adapter"] = accuracy(adapter, d["xb_te"], d["y_te"])
    counts["adapter"] = trainable(adapter)
    rows.append(
        [
            f"adapter m={m}",
            counts["adapter"],
            f"2(2dm+d+m) = {adapter_expected}",
            acc_b["adapter"],
            base_a,
        ]
    )
    emit.progress(len(ranks) + 1, len(ranks) + 2, "adapting")

    full = copy.deepcopy(base).requires_grad_(True)
    fit(full, d["xb"], d["y"], steps, lr / 3, gen)
    acc_b["full"] = accuracy(full, d["xb_te"], d["y_te"])
    counts["full"] = trainable(full)
    full_a = accuracy(full, d["xa_te"], d["y_te"])
    rows.append(["full fine-tuning", counts["full"], f"all = {total}", acc_b["full"], full_a])
    rows.insert(0, ["base (no adaptation)", 0, "-", base_b, base_a])
    emit.progress(len(ranks) + 2, len(ranks) + 2, "adapting")
    train_seconds = time.perf_counter() - t0
    emit.table(
        f"task B ({p['task_b']}) after {steps} steps; task A accuracy of the deployed model "
        "(LoRA and adapters switched off give the base back)",
        ["method", "trainable", "count formula", "acc B", "acc A"],
        [[r[0], r[1], r[2], round(r[3], 4), round(r[4], 4)] for r in rows],
    )
    emit.series(
        "LoRA",
        list(ranks),
        [acc_b[f"lora_r{r}"] for r in ranks],
        "rank r",
        "task B accuracy",
        group="rank sweep",
    )
    emit.series(
        "full fine-tuning",
        list(ranks),
        [acc_b["full"]] * len(ranks),
        "rank r",
        "task B accuracy",
        group="rank sweep",
    )

    # --- exactness ---------------------------------------------------------------------------
    chosen = lora_models[p["rank"]]
    merged = merge(chosen)
    with torch.no_grad():
        unmerged_out, merged_out = chosen(d["xb_te"]), merged(d["xb_te"])
        merge_err32 = (unmerged_out - merged_out).abs().max().item()
        scale32 = unmerged_out.abs().max().item()
        c64, m64 = copy.deepcopy(chosen).double(), merge(copy.deepcopy(chosen).double())
        merge_err64 = (c64(d["xb_te"].double()) - m64(d["xb_te"].double())).abs().max().item()
    frozen_ok = all(torch.equal(a, b) for a, b in zip(snapshot, base.parameters(), strict=True))
    same_preds = bool((unmerged_out.argmax(-1) == merged_out.argmax(-1)).all())
    emit.text(
        f"LoRA r={p['rank']}: at initialisation the model differs from the base by "
        f"{start_err:.1e} (B = 0). Merged W + (alpha/r) B A vs the unmerged adapter: max |logit "
        f"diff| {merge_err32:.2e} in float32 (logits up to {scale32:.1f}), {merge_err64:.2e} in "
        f"float64; predictions identical: {same_preds}. Dense weights: {dense}; LoRA r=1 trains "
        f"{counts['lora_r1'] / total:.1%} of the parameters."
    )

    best_lora = max(acc_b[f"lora_r{r}"] for r in RANKS)
    metrics = {
        "base_acc_a": base_a,
        "base_acc_b": base_b,
        **{f"acc_b_{k}": v for k, v in acc_b.items()},
        **{f"trainable_{k}": v for k, v in counts.items()},
        "full_ft_acc_a": full_a,
        "lora_start_err": start_err,
        "adapter_start_err": adapter_start_err,
        "merge_err_f32": merge_err32,
        "merge_err_f64": merge_err64,
        "total_params": total,
        "train_seconds": train_seconds,
    }
    checks = {
        "exact_lora_starts_as_the_base_model": exact(at_most(start_err, 0.0)),
        "exact_adapter_starts_as_the_base_model": exact(at_most(adapter_start_err, 0.0)),
        "exact_merged_equals_unmerged_f64": exact(at_most(merge_err64, 1e-10)),
        "exact_merged_equals_unmerged_f32": exact(at_most(merge_err32 / max(scale32, 1.0), 1e-5)),
        "exact_lora_trainable_count_is_r_times_d_plus_k": exact(
            is_true(count_ok, "sum over layers of r (d_in + d_out)")
        ),
        "exact_adapter_trainable_count": exact(is_true(adapter_count_ok, "2 (2 d m + d + m)")),
        "exact_base_weights_unchanged": exact(is_true(frozen_ok, "bitwise equal after adapting")),
        "adaptation_helps": at_least(best_lora - base_b, 0.2),
        "lora_r8_close_to_full_fine_tuning": at_least(acc_b["lora_r8"] - acc_b["full"], -0.05),
        "full_fine_tuning_forgets_task_a": at_least(base_a - full_a, 0.05),
    }
    return metrics, checks

"""Scaled dot-product and multi-head attention, written out and checked against references.

    Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k) + M) V

* Q = X W_q, K = X W_k, V = X W_v are per-token linear projections (self-attention: the same X).
* Q K^T scores every query against every key; dividing by sqrt(d_k) keeps the scores' variance
  at ~1 when q and k have unit-variance entries (q.k is a sum of d_k such products).
* M is 0 where a query may attend and -inf where it may not: padding keys, and (in a decoder)
  future positions j > i. exp(-inf) = 0, so masked keys get exactly zero weight.
* A row whose keys are all masked is softmax(-inf, ..., -inf) = 0/0 = NaN in a naive version;
  torch's scaled_dot_product_attention returns zeros there, and so does ours.
* Multi-head: split d_model into h heads of d_k = d_model / h, attend in each head in parallel,
  concatenate the heads and project with W_o.

Boolean mask conventions differ and are a classic bug:
    ours and F.scaled_dot_product_attention: True = may attend
    nn.MultiheadAttention (attn_mask, key_padding_mask): True = masked out
    Hugging Face BERT: an additive float mask (0 keep, a very negative number drop)
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from labdeck.demos.events import EXACT, at_least, at_most, is_true

# ----------------------------------------------------------------------------- the mechanism


def score_scale(d_k: int, scale: bool = True, temperature: float = 1.0) -> float:
    """The factor applied to q.k: 1 / (sqrt(d_k) T), or 1 / T without the sqrt(d_k)."""
    return (1.0 / math.sqrt(d_k) if scale else 1.0) / temperature


def attention(
    q: Tensor,
    k: Tensor,
    v: Tensor,
    attend: Tensor | None = None,
    scale: bool = True,
    temperature: float = 1.0,
) -> tuple[Tensor, Tensor]:
    """softmax(q k^T / (sqrt(d_k) T)) v with an optional boolean mask (True = may attend).

    q: (..., Lq, d_k), k: (..., Lk, d_k), v: (..., Lk, d_v); attend broadcastable to
    (..., Lq, Lk). Returns (output (..., Lq, d_v), weights (..., Lq, Lk)).
    """
    d_k = q.size(-1)
    scores = q @ k.transpose(-2, -1)  # s_ij = q_i . k_j
    # Var(s_ij) ~ 1 instead of ~ d_k; T < 1 sharpens the softmax, T > 1 flattens it
    scores = scores * score_scale(d_k, scale, temperature)
    if attend is not None:
        scores = scores.masked_fill(~attend, float("-inf"))  # exp(-inf) = 0: no weight
    weights = torch.softmax(scores, dim=-1)  # a_ij = exp(s_ij) / sum_j' exp(s_ij')
    if attend is not None:
        # A fully masked row is 0/0 = NaN above; define it as "attends to nothing" (zeros),
        # which is what F.scaled_dot_product_attention returns.
        weights = weights.masked_fill(~attend.any(dim=-1, keepdim=True), 0.0)
    return weights @ v, weights  # o_i = sum_j a_ij v_j


def naive_attention(q: Tensor, k: Tensor, v: Tensor, attend: Tensor) -> Tensor:
    """The textbook version without the fully-masked-row rule (to show the NaN)."""
    scores = (q @ k.transpose(-2, -1)) / math.sqrt(q.size(-1))
    return torch.softmax(scores.masked_fill(~attend, float("-inf")), dim=-1) @ v


def padding_mask(lengths: Tensor, length: int) -> Tensor:
    """(B,) lengths -> (B, 1, 1, L) boolean, True on real tokens (keys that may be attended)."""
    return (torch.arange(length, device=lengths.device)[None, :] < lengths[:, None])[:, None, None]


def causal_mask(length: int, device: Any = None) -> Tensor:
    """(L, L) boolean, True where key j <= query i (no peeking at the future)."""
    return torch.ones(length, length, dtype=torch.bool, device=device).tril()


class MultiHeadAttention(nn.Module):
    """MultiHead(X) = Concat(head_1..head_h) W_o, head_i = Attention(X W_q^i, X W_k^i, X W_v^i)."""

    def __init__(self, d_model: int, heads: int) -> None:
        super().__init__()
        assert d_model % heads == 0, "heads must divide d_model"
        self.h, self.d_k = heads, d_model // heads
        self.w_q = nn.Linear(d_model, d_model)
        self.w_k = nn.Linear(d_model, d_model)
        self.w_v = nn.Linear(d_model, d_model)
        self.w_o = nn.Linear(d_model, d_model)

    def split(self, x: Tensor) -> Tensor:  # (B, L, h*d_k) -> (B, h, L, d_k)
        b, n, _ = x.shape
        return x.view(b, n, self.h, self.d_k).transpose(1, 2)

    def context(
        self,
        x: Tensor,
        kv: Tensor | None = None,
        attend: Tensor | None = None,
        scale: bool = True,
        temperature: float = 1.0,
    ) -> tuple[Tensor, Tensor]:
        """Concatenated head outputs before W_o, and the per-head weights (B, h, Lq, Lk)."""
        kv = x if kv is None else kv  # self-attention when kv is None, else cross-attention
        q, k, v = self.split(self.w_q(x)), self.split(self.w_k(kv)), self.split(self.w_v(kv))
        out, weights = attention(q, k, v, attend, scale, temperature)
        b, _, n, _ = out.shape
        return out.transpose(1, 2).reshape(b, n, self.h * self.d_k), weights

    def forward(
        self,
        x: Tensor,
        kv: Tensor | None = None,
        attend: Tensor | None = None,
        scale: bool = True,
        temperature: float = 1.0,
    ) -> tuple[Tensor, Tensor]:
        ctx, weights = self.context(x, kv, attend, scale, temperature)
        return self.w_o(ctx), weights

    @torch.no_grad()
    def load_from_torch(self, mha: nn.MultiheadAttention) -> MultiHeadAttention:
        """Copy nn.MultiheadAttention's packed in_proj (W_q; W_k; W_v stacked) and out_proj."""
        wq, wk, wv = mha.in_proj_weight.chunk(3)
        bq, bk, bv = mha.in_proj_bias.chunk(3)
        for lin, w, b in ((self.w_q, wq, bq), (self.w_k, wk, bk), (self.w_v, wv, bv)):
            lin.weight.copy_(w)
            lin.bias.copy_(b)
        self.w_o.weight.copy_(mha.out_proj.weight)
        self.w_o.bias.copy_(mha.out_proj.bias)
        return self

    @torch.no_grad()
    def load_from_bert(self, self_attn: nn.Module, self_output: nn.Module) -> MultiHeadAttention:
        """Copy a transformers BertSelfAttention (query/key/value) and BertSelfOutput.dense."""
        for lin, src in (
            (self.w_q, self_attn.query),
            (self.w_k, self_attn.key),
            (self.w_v, self_attn.value),
            (self.w_o, self_output.dense),
        ):
            assert isinstance(src, nn.Linear)  # BertSelfAttention / BertSelfOutput layers
            lin.weight.copy_(src.weight)
            lin.bias.copy_(src.bias)
        return self


# ----------------------------------------------------------------------------- verification


def sinusoidal_positions(length: int, dim: int) -> Tensor:
    """PE[p, 2i] = sin(p / 10000^(2i/d)), PE[p, 2i+1] = cos(p / 10000^(2i/d))."""
    pos = torch.arange(length, dtype=torch.float32)[:, None]
    freq = torch.exp(-math.log(10000.0) * torch.arange(0, dim, 2, dtype=torch.float32) / dim)
    pe = torch.zeros(length, dim)
    pe[:, 0::2] = torch.sin(pos * freq)
    pe[:, 1::2] = torch.cos(pos * freq)[:, : dim // 2]
    return pe


def embed_sentences(sentences: list[list[str]], dim: int, gen: torch.Generator) -> Tensor:
    """Random word vectors (one per distinct word) + sinusoidal positions, right-padded."""
    vocab = sorted({w for s in sentences for w in s})
    table = torch.randn(len(vocab), dim, generator=gen)
    length = max(len(s) for s in sentences)
    x = torch.randn(len(sentences), length, dim, generator=gen) * 3.0  # junk in the padding
    for b, s in enumerate(sentences):
        x[b, : len(s)] = table[[vocab.index(w) for w in s]]
    return x + sinusoidal_positions(length, dim)


def compare_with_sdpa(
    gen: torch.Generator,
    heads: int,
    d_k: int,
    length: int,
    device: Any = "cpu",
    scale: bool = True,
    temperature: float = 1.0,
) -> dict[str, float]:
    """Max |ours - F.scaled_dot_product_attention| for several masks (same fp32 inputs), with
    SDPA's ``scale`` argument set to our 1 / (sqrt(d_k) T): exact for every scaling choice."""
    factor = score_scale(d_k, scale, temperature)
    b = 2
    q, k, v = (torch.randn(b, heads, length, d_k, generator=gen).to(device) for _ in range(3))
    pad = padding_mask(torch.tensor([length, max(1, length - 3)], device=device), length)
    causal = causal_mask(length, device)
    holes = (torch.rand(b, heads, length, length, generator=gen) > 0.3).to(device)
    holes[..., 1, :] = False  # one fully masked row per head: SDPA gives zeros, so must we
    cases = {"none": None, "padding": pad, "causal": causal, "padding+causal": pad & causal}
    errs = {}
    for name, mask in cases.items():
        ours, _ = attention(q, k, v, mask, scale, temperature)
        ref = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, scale=factor)
        errs[name] = (ours - ref).abs().max().item()
    ours, _ = attention(q, k, v, causal, scale, temperature)
    ref = F.scaled_dot_product_attention(q, k, v, is_causal=True, scale=factor)
    errs["is_causal"] = (ours - ref).abs().max().item()
    ours, _ = attention(q, k, v, holes, scale, temperature)
    with _math_sdpa_on_gpu(q.device):
        ref = F.scaled_dot_product_attention(q, k, v, attn_mask=holes, scale=factor)
    errs["fully masked rows"] = (ours - ref).abs().max().item()
    return errs


def _math_sdpa_on_gpu(device: torch.device) -> Any:
    """Fully masked rows: PyTorch defines them as zeros in its reference (math) backend; the
    fused GPU kernels are not bound to that, so on a GPU that case compares with the math
    backend, and every other case with whatever kernel PyTorch picks."""
    import contextlib

    if device.type == "cpu":
        return contextlib.nullcontext()
    from torch.nn.attention import SDPBackend, sdpa_kernel

    return sdpa_kernel([SDPBackend.MATH])


def fully_masked_row_demo(gen: torch.Generator) -> dict[str, Any]:
    q, k, v = (torch.randn(1, 3, 4, generator=gen) for _ in range(3))
    attend = torch.ones(1, 3, 3, dtype=torch.bool)
    attend[0, 1] = False  # query 1 may attend to nothing
    ours, _ = attention(q, k, v, attend)
    ref = F.scaled_dot_product_attention(q, k, v, attn_mask=attend)
    naive = naive_attention(q, k, v, attend)
    return {
        "ours_row": ours[0, 1].tolist(),
        "sdpa_row": ref[0, 1].tolist(),
        "naive_row": naive[0, 1].tolist(),
        "ours_zero": bool((ours[0, 1] == 0).all()),
        "sdpa_zero": bool((ref[0, 1] == 0).all()),
        "naive_nan": bool(torch.isnan(naive[0, 1]).all()),
        "others_equal": bool(torch.allclose(ours[0, [0, 2]], ref[0, [0, 2]], atol=1e-6)),
    }


def compare_with_torch_mha(
    x: Tensor, lengths: Tensor, heads: int, causal: bool
) -> dict[str, float]:
    """Our MHA given nn.MultiheadAttention's weights; masks translated (True = masked there)."""
    d_model, length = x.size(-1), x.size(1)
    ref = nn.MultiheadAttention(d_model, heads, batch_first=True).to(x.device).eval()
    ours = MultiHeadAttention(d_model, heads).to(x.device).load_from_torch(ref).eval()
    attend = padding_mask(lengths, length)
    if causal:
        attend = attend & causal_mask(length, x.device)
    key_padding_mask = ~padding_mask(lengths, length)[:, 0, 0]  # (B, L), True = ignore key
    attn_mask = ~causal_mask(length, x.device) if causal else None  # (L, L), True = not allowed
    with torch.no_grad():
        out, w = ours(x, attend=attend)
        ref_out, ref_w = ref(
            x,
            x,
            x,
            key_padding_mask=key_padding_mask,
            attn_mask=attn_mask,
            need_weights=True,
            average_attn_weights=False,
        )
        # The classic bug: hand MHA the SDPA-style mask (True = attend) without inverting it.
        # A full-length sentence then has every key masked (NaN rows); a padded one attends
        # only to its padding.
        wrong, _ = ref(x, x, x, key_padding_mask=~key_padding_mask, need_weights=False)
    real = padding_mask(lengths, length)[:, 0, 0]  # compare where queries are real tokens
    finite = ~torch.isnan(wrong).any(-1) & real
    return {
        "output": (out - ref_out)[real].abs().max().item(),
        "weights": (w - ref_w).permute(0, 2, 1, 3)[real].abs().max().item(),
        "uninverted_mask": (out - wrong)[finite].abs().max().item() if finite.any() else 0.0,
        "uninverted_nan_rows": int((torch.isnan(wrong).any(-1) & real).sum()),
    }


def compare_cross_attention(x: Tensor, memory: Tensor, heads: int) -> dict[str, float]:
    """Cross-attention (queries from x, keys and values from ``memory``) vs nn.MultiheadAttention
    with the same weights; a query may attend to every memory token."""
    d_model = x.size(-1)
    ref = nn.MultiheadAttention(d_model, heads, batch_first=True).to(x.device).eval()
    ours = MultiHeadAttention(d_model, heads).to(x.device).load_from_torch(ref).eval()
    with torch.no_grad():
        out, w = ours(x, kv=memory)
        ref_out, ref_w = ref(x, memory, memory, need_weights=True, average_attn_weights=False)
    return {
        "output": (out - ref_out).abs().max().item(),
        "weights": (w - ref_w).abs().max().item(),
        "shape": list(w.shape),
    }


def compare_with_bert(x: Tensor, lengths: Tensor, heads: int) -> dict[str, float]:
    """Self-attention of a randomly initialised transformers BertLayer vs ours with its weights."""
    from transformers.models.bert.configuration_bert import BertConfig
    from transformers.models.bert.modeling_bert import BertLayer

    d_model, length = x.size(-1), x.size(1)
    config = BertConfig(
        vocab_size=32,
        hidden_size=d_model,
        num_attention_heads=heads,
        num_hidden_layers=1,
        intermediate_size=2 * d_model,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
        # Taken at run time by PreTrainedConfig; BertConfig's typed signature omits it.
        attn_implementation="eager",  # type: ignore[call-arg]
    )
    layer = BertLayer(config).to(x.device).eval()  # random weights; nothing is downloaded
    ours = MultiHeadAttention(d_model, heads).to(x.device).eval()
    ours.load_from_bert(layer.attention.self, layer.attention.output)
    keep = padding_mask(lengths, length)  # (B, 1, 1, L)
    additive = torch.zeros(keep.shape, device=x.device).masked_fill(
        ~keep, torch.finfo(torch.float32).min
    )
    with torch.no_grad():
        ref_ctx, ref_w = layer.attention.self(x, attention_mask=additive)
        ref_block, _ = layer.attention(x, attention_mask=additive)
        ctx, w = ours.context(x, attend=keep)
        # BertSelfOutput: LayerNorm(W_o ctx + x), the residual block around attention
        block = layer.attention.output.LayerNorm(ours.w_o(ctx) + x)
    real = keep[:, 0, 0]
    return {
        "context": (ctx - ref_ctx)[real].abs().max().item(),
        "weights": (w - ref_w).permute(0, 2, 1, 3)[real].abs().max().item(),
        "block": (block - ref_block)[real].abs().max().item(),
    }


def influence(
    mha: MultiHeadAttention, x: Tensor, lengths: Tensor, gen: torch.Generator
) -> dict[str, Any]:
    """Change what must not matter and measure how much the output moves (should be exactly 0)."""
    b, length, _ = x.shape
    real = padding_mask(lengths, length)
    with torch.no_grad():
        out, _ = mha(x, attend=real)
        x2 = x.clone()
        for i in range(b):
            n = int(lengths[i])
            x2[i, n:] = 100.0 * torch.randn(length - n, x.size(-1), generator=gen).to(x)
        out2, _ = mha(x2, attend=real)
        real_q = real[:, 0, 0]
        pad_delta = (out - out2)[real_q].abs().max().item()

        # Causal: perturbing token j may change outputs at positions >= j, never before j.
        causal = causal_mask(length, x.device)
        base, _ = mha(x, attend=causal)
        fut_delta = 0.0
        for j in range(1, length):
            xj = x.clone()
            xj[:, j] += 100.0 * torch.randn(b, x.size(-1), generator=gen).to(x)
            oj, _ = mha(xj, attend=causal)
            fut_delta = max(fut_delta, (oj - base)[:, :j].abs().max().item())
        later = (oj - base)[:, length - 1].abs().max().item()  # the last token does move
    return {"padding": pad_delta, "future": fut_delta, "sanity_changed": later}


def scaling_experiment(
    gen: torch.Generator,
    max_dk: int,
    n_keys: int = 16,
    scale: bool = True,
    temperature: float = 1.0,
    device: Any = "cpu",
) -> list[dict[str, Any]]:
    """Softmax of unit-variance q.k as d_k grows: the chosen scoring (``scaled`` True: by
    default 1/sqrt(d_k)) against raw, unscaled dot products (``scaled`` False)."""
    rows = []
    d_k = 4
    while d_k <= max_dk:
        q = torch.randn(256, 1, d_k, generator=gen).to(device)
        k = torch.randn(256, n_keys, d_k, generator=gen).to(device)
        v = torch.randn(256, n_keys, 1, generator=gen).to(device)
        g = torch.randn(256, 1, 1, generator=gen).to(device)
        for scaled in (True, False):
            factor = score_scale(d_k, scale, temperature) if scaled else 1.0
            s = (q @ k.transpose(-2, -1)) * factor
            s = s.detach().requires_grad_(True)
            p = torch.softmax(s, dim=-1)
            ((p @ v) * g).sum().backward()  # a random downstream loss
            entropy = -(p * torch.log(p.clamp_min(1e-30))).sum(-1).mean().item()
            assert s.grad is not None  # s requires grad and the loss used it
            rows.append(
                {
                    "d_k": d_k,
                    "scaled": scaled,
                    "score_std": s.detach().std().item(),
                    "max_weight": p.max(-1).values.mean().item(),
                    "entropy": entropy,
                    "grad_norm": s.grad.norm(dim=-1).mean().item(),  # |dL/ds| per query
                }
            )
        d_k *= 4
    return rows


# ----------------------------------------------------------------------------- the demo


def run(ctx: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    p, emit = ctx.params, ctx.emit
    d_model, heads = p["d_model"], p["heads"]
    scale, temp = not p["no_scale"], p["temperature"]
    gen = torch.Generator().manual_seed(ctx.seed)
    total = 6
    scoring = f"q.k {'/ sqrt(d_k)' if scale else '(no 1/sqrt(d_k))'}" + (
        f" / T, T={temp:g}" if temp != 1.0 else ""
    )

    words = p["sentence"].lower().split()
    short = words[: max(2, len(words) // 2)]
    dev = ctx.device
    lengths = torch.tensor([len(words), len(short)], device=dev)
    x = embed_sentences([words, short], d_model, gen).to(dev)
    emit.text(
        f"Sentence A ({len(words)} tokens): {' '.join(words)}\n"
        f"Sentence B ({len(short)} tokens, right-padded to {len(words)}): {' '.join(short)}\n"
        f"d_model={d_model}, heads={heads}, d_k={d_model // heads}; random projections; "
        f"scores = {scoring}."
    )

    # 1. Our attention vs F.scaled_dot_product_attention --------------------------------------
    emit.progress(0, total, "ours vs torch SDPA")
    sdpa = compare_with_sdpa(gen, heads, d_model // heads, len(words), dev, scale, temp)
    emit.table(
        f"ours vs F.scaled_dot_product_attention (fp32, scores = {scoring})",
        ["mask", "max |diff|"],
        [[k, f"{v:.2e}"] for k, v in sdpa.items()],
    )
    full = fully_masked_row_demo(gen)
    emit.text(
        "A query whose keys are all masked: naive softmax gives "
        f"{[round(v, 3) if v == v else 'nan' for v in full['naive_row']]}, "
        f"torch SDPA gives {[round(v, 3) for v in full['sdpa_row']]}, ours gives "
        f"{[round(v, 3) for v in full['ours_row']]}."
    )

    # 2. vs nn.MultiheadAttention with the same weights ------------------------------------
    emit.progress(1, total, "ours vs nn.MultiheadAttention")
    mha_pad = compare_with_torch_mha(x, lengths, heads, causal=False)
    mha_causal = compare_with_torch_mha(x, lengths, heads, causal=True)
    emit.table(
        "ours vs nn.MultiheadAttention (same weights)",
        ["masks", "output max |diff|", "weights max |diff|"],
        [
            ["padding", f"{mha_pad['output']:.2e}", f"{mha_pad['weights']:.2e}"],
            ["padding+causal", f"{mha_causal['output']:.2e}", f"{mha_causal['weights']:.2e}"],
        ],
    )
    emit.text(
        "Mask conventions: SDPA and ours take True = attend; nn.MultiheadAttention takes "
        "True = masked. Passing our padding mask to MHA without inverting it changes the "
        f"output by up to {mha_pad['uninverted_mask']:.3g} and turns "
        f"{mha_pad['uninverted_nan_rows']} token outputs into NaN (every key masked)."
    )

    # Cross-attention: the decoder's queries, the encoder's keys and values.
    cross = compare_cross_attention(x[:1, : len(short)], x[:1], heads)
    emit.text(
        f"Cross-attention: {len(short)} queries from sentence B attend over the {len(words)} "
        f"tokens of sentence A (weights {cross['shape']}: batch, heads, queries, keys); vs "
        f"nn.MultiheadAttention(query=B, key=value=A): max |diff| {cross['output']:.2e} "
        f"(output), {cross['weights']:.2e} (weights)."
    )

    # 3. vs the self-attention of a transformers BERT layer (full preset; a slow import) ----
    emit.progress(2, total, "ours vs BERT self-attention")
    bert = compare_with_bert(x, lengths, heads) if p["bert"] else None
    if bert is not None:
        emit.table(
            "ours vs transformers BertLayer self-attention (random weights, additive mask)",
            ["quantity", "max |diff|"],
            [
                ["context (heads concatenated)", f"{bert['context']:.2e}"],
                ["attention weights", f"{bert['weights']:.2e}"],
                ["attention block (W_o, residual, LayerNorm)", f"{bert['block']:.2e}"],
            ],
        )

    # 4. Masks: padded keys and future tokens have zero influence ---------------------------
    emit.progress(3, total, "masks")
    mha = MultiHeadAttention(d_model, heads).to(dev).eval()
    infl = influence(mha, x, lengths, gen)
    # For the picture: distinct random W_q and W_k with unit-variance projections, so the
    # pattern is an (untrained) layer's own, not the diagonal that W_q = W_k would give.
    shown = MultiHeadAttention(d_model, heads).to(dev).eval()
    with torch.no_grad():
        for lin in (shown.w_q, shown.w_k):
            w = torch.randn(d_model, d_model, generator=gen) / math.sqrt(d_model)
            lin.weight.copy_(w.to(dev))
            lin.bias.zero_()
        causal_w = causal_mask(len(words), dev)
        _, w_causal = shown(x[:1], attend=causal_w, scale=scale, temperature=temp)
        pad_attend = padding_mask(lengths[1:], len(words))
        _, w_pad = shown(x[1:], attend=pad_attend, scale=scale, temperature=temp)
    avg_causal = w_causal[0, 0].cpu()  # head 0: (L, L); an average over heads blurs it
    avg_pad = w_pad[0, 0].cpu()
    rows_p = w_causal[0, 0].clamp_min(1e-30)
    heat_entropy = -(rows_p * rows_p.log()).sum(-1).mean().item()
    heat_max = w_causal[0, 0].max(-1).values.mean().item()
    pad_labels = short + ["<pad>"] * (len(words) - len(short))
    emit.image(
        f"Self-attention weights of head 0, causal mask, sentence A ({scoring}; rows: queries, "
        "columns: keys)",
        data=avg_causal.tolist(),
        xlabels=words,
        ylabels=words,
        vmax=float(avg_causal.max()),
    )
    emit.image(
        "Self-attention weights of head 0, padding mask, sentence B (padded key columns are 0)",
        data=avg_pad.tolist(),
        xlabels=pad_labels,
        ylabels=pad_labels,
        vmax=float(avg_pad.max()),
    )
    emit.text(
        f"Changing padded tokens moved real outputs by {infl['padding']:.1e}; changing a token "
        f"moved earlier outputs (causal mask) by {infl['future']:.1e} and the last output by "
        f"{infl['sanity_changed']:.3g}. Heatmap rows (head 0, random W_q != W_k): mean "
        f"entropy {heat_entropy:.2f} nats, mean largest weight {heat_max:.2f} -- lower "
        "--temperature or --no-scale and the rows turn one-hot."
    )

    # 5. Why 1/sqrt(d_k): softmax saturation and vanishing gradients ------------------------
    emit.progress(4, total, "scaling experiment")
    rows = scaling_experiment(gen, p["max_dk"], scale=scale, temperature=temp, device=dev)
    emit.table(
        f"softmax over 16 keys, unit-variance q and k ('scaled' = {scoring})",
        ["d_k", "scaled", "score std", "mean max weight", "entropy (nats)", "|dL/dscores|"],
        [
            [
                r["d_k"],
                "yes" if r["scaled"] else "no",
                f"{r['score_std']:.2f}",
                f"{r['max_weight']:.3f}",
                f"{r['entropy']:.3f}",
                f"{r['grad_norm']:.2e}",
            ]
            for r in rows
        ],
    )
    for scaled in (True, False):
        sel = [r for r in rows if r["scaled"] is scaled]
        name = ("with 1/sqrt(d_k)" if scale and temp == 1.0 else scoring) if scaled else "raw q.k"
        emit.series(
            f"entropy {name}",
            [math.log2(r["d_k"]) for r in sel],
            [r["entropy"] for r in sel],
            xlabel="log2 d_k",
            ylabel="entropy (nats)",
            group="entropy",
        )
        emit.series(
            f"grad norm {name}",
            [math.log2(r["d_k"]) for r in sel],
            [math.log10(max(r["grad_norm"], 1e-30)) for r in sel],
            xlabel="log2 d_k",
            ylabel="log10 |dL/dscores|",
            group="grad",
        )
    big = max(r["d_k"] for r in rows)
    s_big = next(r for r in rows if r["d_k"] == big and r["scaled"])
    u_big = next(r for r in rows if r["d_k"] == big and not r["scaled"])

    # A picture of saturation: 8 queries x 8 keys at the largest d_k.
    q = torch.randn(8, big, generator=gen)
    k = torch.randn(8, big, generator=gen)
    grid = [
        [
            torch.softmax(q @ k.T * score_scale(big, scale, temp), -1).tolist(),
            torch.softmax(q @ k.T, -1).tolist(),
        ]
    ]
    emit.image(
        f"softmax(q.k) at d_k={big}: {scoring} (left) vs raw q.k (right, one-hot rows)",
        grid=grid,
        labels=[["chosen", "raw q.k"]],
    )
    emit.progress(total, total, "done")

    metrics = {
        "sdpa_max_abs_err": max(sdpa.values()),
        "mha_max_abs_err": max(
            mha_pad["output"], mha_causal["output"], mha_pad["weights"], mha_causal["weights"]
        ),
        "cross_attention_max_abs_err": max(cross["output"], cross["weights"]),
        "heatmap_entropy": heat_entropy,
        "heatmap_max_weight": heat_max,
        "padding_influence": infl["padding"],
        "future_influence": infl["future"],
        "uninverted_mask_err": mha_pad["uninverted_mask"],
        "uninverted_mask_nan_rows": mha_pad["uninverted_nan_rows"],
        "scaled_max_weight": s_big["max_weight"],
        "unscaled_max_weight": u_big["max_weight"],
        "scaled_grad_norm": s_big["grad_norm"],
        "unscaled_grad_norm": u_big["grad_norm"],
        "largest_d_k": big,
    }
    if bert is not None:
        metrics["bert_max_abs_err"] = max(bert.values())
    tol = 1e-5 if dev.type == "cpu" else 1e-4  # GPU kernels reorder the fp32 sums
    checks = {
        "matches_torch_sdpa": at_most(metrics["sdpa_max_abs_err"], tol, EXACT),
        "matches_nn_multiheadattention": at_most(metrics["mha_max_abs_err"], tol, EXACT),
        "cross_attention_matches_nn_multiheadattention": at_most(
            metrics["cross_attention_max_abs_err"], tol, EXACT
        ),
        "padded_keys_no_influence": at_most(metrics["padding_influence"], 0.0, EXACT),
        "future_positions_no_influence": at_most(metrics["future_influence"], 0.0, EXACT),
        "fully_masked_row_is_zero_like_sdpa": is_true(
            full["ours_zero"] and full["sdpa_zero"] and full["others_equal"],
            "ours == SDPA == 0 on the masked row",
            EXACT,
        ),
        "naive_softmax_nan_on_fully_masked_row": is_true(full["naive_nan"], kind=EXACT),
        "uninverted_mha_mask_differs": is_true(
            metrics["uninverted_mask_err"] > 1e-3 or metrics["uninverted_mask_nan_rows"] > 0,
            "a visible difference or NaN rows",
            EXACT,
        ),
        "unscaled_softmax_saturates": at_least(metrics["unscaled_max_weight"], 0.9),
        "scaled_softmax_not_saturated": at_most(metrics["scaled_max_weight"], 0.6),
        "unscaled_gradient_vanishes": at_most(
            metrics["unscaled_grad_norm"] / max(metrics["scaled_grad_norm"], 1e-30), 0.2
        ),
    }
    if bert is not None:
        checks["matches_bert_self_attention"] = at_most(metrics["bert_max_abs_err"], tol, EXACT)
    return metrics, checks

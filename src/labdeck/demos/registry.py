"""The demo registry: what each demo is, what it teaches, and which parameters it takes.

This module is imported at start-up by the CLI and the TUI, so it must stay light: standard
library only (no torch, transformers, scikit-learn or numpy). Cards name demos by id only; the
registry is the single list of what can be run, so nothing in a deck file can run other code.

Parameters are resolved in three layers: the parameter defaults (the ``full`` preset), then the
chosen preset's overrides (``quick``), then explicit values. Every value is coerced and bounds-
checked here, in the parent, before a child process is started; the child validates again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

PRESETS: tuple[str, ...] = ("quick", "full")
DEVICES: tuple[str, ...] = ("auto", "cpu", "cuda")

_TRUE = {"1", "true", "yes", "on", "y", "t"}
_FALSE = {"0", "false", "no", "off", "n", "f"}


class UnknownDemo(KeyError):
    """No demo has this id."""

    def __init__(self, demo_id: object) -> None:
        self.demo_id = demo_id
        known = ", ".join(sorted(_DEMOS))
        super().__init__(f"unknown demo {demo_id!r}; known demos: {known}")

    def __str__(self) -> str:  # KeyError would repr() the message; show it plainly
        return str(self.args[0])


class InvalidParameter(ValueError):
    """A parameter value has the wrong type, is out of bounds, or is not a parameter at all."""

    def __init__(self, demo_id: str, param: str, message: str) -> None:
        self.demo_id = demo_id
        self.param = param
        super().__init__(f"demo {demo_id!r}: parameter {param!r} {message}")


@dataclass(frozen=True)
class Param:
    """One tunable parameter. ``min``/``max`` bound numbers (inclusive) or a string's length."""

    name: str
    type: type  # int, float, str or bool
    default: Any
    help: str
    min: float | None = None
    max: float | None = None
    choices: tuple[Any, ...] | None = None

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def describe_bounds(self) -> str:
        if self.choices is not None:
            return "one of " + ", ".join(map(str, self.choices))
        if self.type is str:
            return f"length {self._fmt(self.min or 0)}..{self._fmt(self.max)}"
        if self.type is bool:
            return "true or false"
        lo = "-inf" if self.min is None else self._fmt(self.min)
        hi = "inf" if self.max is None else self._fmt(self.max)
        return f"{lo}..{hi}"

    @staticmethod
    def _fmt(x: float | None) -> str:
        if x is None:
            return "inf"
        return str(int(x)) if float(x).is_integer() and abs(x) < 1e15 else f"{x:g}"

    def coerce(self, value: Any, demo_id: str = "?") -> Any:
        """Return ``value`` as this parameter's type, or raise :class:`InvalidParameter`."""

        def bad(msg: str) -> InvalidParameter:
            return InvalidParameter(demo_id, self.name, msg)

        kind = self.type.__name__
        if self.type is bool:
            if isinstance(value, bool):
                out: Any = value
            elif isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
                out = value.strip().lower() in _TRUE
            else:
                raise bad(f"must be true or false, got {value!r}")
        elif self.type is int:
            if isinstance(value, bool):
                raise bad(f"must be an integer, got {value!r}")
            if isinstance(value, int):
                out = value
            elif isinstance(value, float) and value.is_integer():
                out = int(value)
            elif isinstance(value, str):
                try:
                    out = int(value.strip())
                except ValueError:
                    raise bad(f"must be an integer, got {value!r}") from None
            else:
                raise bad(f"must be an integer, got {value!r}")
        elif self.type is float:
            if isinstance(value, bool):
                raise bad(f"must be a number, got {value!r}")
            try:
                out = float(value.strip() if isinstance(value, str) else value)
            except (TypeError, ValueError):
                raise bad(f"must be a number, got {value!r}") from None
            if out != out or out in (float("inf"), float("-inf")):
                raise bad(f"must be a finite number, got {value!r}")
        elif self.type is str:
            if not isinstance(value, str):
                raise bad(f"must be a string, got {value!r}")
            out = value
            n = len(out)
            if (self.min is not None and n < self.min) or (self.max is not None and n > self.max):
                raise bad(f"must have {self.describe_bounds()} characters, got {n}")
        else:  # pragma: no cover - registry definitions only use the four types
            raise bad(f"has unsupported type {kind}")

        if self.choices is not None and out not in self.choices:
            raise bad(f"must be {self.describe_bounds()}, got {value!r}")
        if self.type in (int, float) and (
            (self.min is not None and out < self.min) or (self.max is not None and out > self.max)
        ):
            noun = "an integer" if self.type is int else "a number"
            raise bad(f"must be {noun} in {self.describe_bounds()}, got {value!r}")
        return out


# A constraint looks at the resolved parameters and returns (param, message) when they are
# inconsistent, e.g. a model width that the number of heads does not divide.
Constraint = Callable[[Mapping[str, Any]], "tuple[str, str] | None"]


@dataclass(frozen=True)
class Demo:
    id: str
    title: str
    explanation: str
    module: str  # imported in the child process only
    topics: tuple[str, ...]  # outline references, e.g. "B2.1"
    keywords: tuple[str, ...]
    params: tuple[Param, ...]
    presets: Mapping[str, Mapping[str, Any]]
    seconds: Mapping[str, float]  # CPU seconds per preset, one thread (benchmarks/bench_demos.py)
    constraints: tuple[Constraint, ...] = field(default=())
    concepts: tuple[str, ...] = ()  # what a card must be about for this demo to illustrate it
    notice: str = ""  # the "what to notice" block printed after a run

    @property
    def tags(self) -> tuple[str, ...]:
        return self.topics + self.keywords

    def param(self, name: str) -> Param:
        key = name.replace("-", "_")
        for p in self.params:
            if p.name == key:
                return p
        known = ", ".join(p.name for p in self.params)
        raise InvalidParameter(self.id, name, f"is not a parameter of this demo (known: {known})")

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}

    def resolve(
        self, overrides: Mapping[str, Any] | None = None, preset: str | None = None
    ) -> dict[str, Any]:
        """Defaults, then ``preset``'s values, then ``overrides``; all validated."""
        values = self.defaults()
        if preset is not None:
            if preset not in self.presets:
                raise InvalidParameter(
                    self.id, "preset", f"must be one of {', '.join(self.presets)}, got {preset!r}"
                )
            values.update(self.presets[preset])
        for name, value in (overrides or {}).items():
            values[self.param(name).name] = value
        out = {p.name: p.coerce(values[p.name], self.id) for p in self.params}
        for rule in self.constraints:
            problem = rule(out)
            if problem is not None:
                raise InvalidParameter(self.id, problem[0], problem[1])
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "explanation": self.explanation,
            "topics": list(self.topics),
            "keywords": list(self.keywords),
            "params": [
                {
                    "name": p.name,
                    "type": p.type.__name__,
                    "default": p.default,
                    "min": p.min,
                    "max": p.max,
                    "choices": list(p.choices) if p.choices is not None else None,
                    "help": p.help,
                }
                for p in self.params
            ],
            "presets": {k: dict(v) for k, v in self.presets.items()},
            "seconds": dict(self.seconds),
            "concepts": list(self.concepts),
            "notice": self.notice,
        }


def _divides(width: str, heads: str) -> Constraint:
    def rule(v: Mapping[str, Any]) -> tuple[str, str] | None:
        if v[width] % v[heads]:
            return heads, f"must divide {width}={v[width]}, got {v[heads]}"
        return None

    return rule


def _max_words(name: str, n: int) -> Constraint:
    def rule(v: Mapping[str, Any]) -> tuple[str, str] | None:
        words = v[name].split()
        if not 2 <= len(words) <= n:
            return name, f"must have 2..{n} words, got {len(words)}"
        return None

    return rule


def _frozen(d: Mapping[str, Mapping[str, Any]]) -> Mapping[str, Mapping[str, Any]]:
    return MappingProxyType({k: MappingProxyType(dict(v)) for k, v in d.items()})


_ATTENTION = Demo(
    id="attention",
    title="Scaled dot-product and multi-head attention",
    explanation=(
        "Attention written out step by step: queries, keys and values are linear projections "
        "of the tokens; each query scores every key with a dot product divided by sqrt(d_k); "
        "masked positions (padding, or the future in a decoder) get -inf before the softmax, so "
        "their weight is exactly zero; the output is the weight-averaged values, computed per "
        "head and projected back. The run checks the hand-written version against PyTorch's "
        "scaled_dot_product_attention, nn.MultiheadAttention (self- and cross-attention) and, "
        "in the full preset, a randomly initialised BERT self-attention layer given the same "
        "weights; draws the attention weights of a short sentence as a heatmap, and shows why "
        "the 1/sqrt(d_k) matters: without it (--no-scale), or with a low --temperature, the "
        "softmax saturates as d_k grows and its gradient vanishes."
    ),
    module="labdeck.demos.attention",
    topics=("B1.4", "B2.1", "B2.2", "B2.3", "B2.4", "B3.1", "B3.3"),
    keywords=(
        "attention",
        "scaled dot-product attention",
        "multi-head attention",
        "self-attention",
        "softmax",
        "masking",
        "causal mask",
        "padding mask",
        "transformer",
        "bert",
    ),
    params=(
        Param(
            "sentence",
            str,
            "the cat sat on the mat because it was tired",
            "sentence whose attention weights are drawn (2-16 words)",
            min=3,
            max=200,
        ),
        Param("d_model", int, 64, "model width (embedding size)", min=8, max=512),
        Param("heads", int, 4, "number of attention heads (must divide d_model)", min=1, max=16),
        Param(
            "max_dk", int, 1024, "largest d_k of the sweep 4, 16, 64, ... (x4)", min=16, max=4096
        ),
        Param("no_scale", bool, False, "drop the 1/sqrt(d_k) factor from the scores"),
        Param(
            "temperature",
            float,
            1.0,
            "softmax temperature T: scores / (sqrt(d_k) T); T < 1 sharpens, T > 1 flattens",
            min=0.01,
            max=100.0,
        ),
        Param(
            "bert",
            bool,
            True,
            "also compare with a transformers BertLayer (slow import; off in quick)",
        ),
    ),
    presets=_frozen({"quick": {"max_dk": 1024, "bert": False}, "full": {}}),
    seconds=MappingProxyType({"quick": 1.5, "full": 4.5}),
    constraints=(_divides("d_model", "heads"), _max_words("sentence", 16)),
    concepts=(
        "scaled dot-product attention",
        "multi-head attention",
        "self-attention",
        "cross-attention",
        "causal mask",
        "look-ahead mask",
        "padding mask",
        "softmax temperature",
        "sqrt(d_k)",
        "queries, keys and values",
        "attention weights",
    ),
    notice=(
        "Each output is a weighted average of the values; the weights in a row sum to 1.\n"
        "Masked keys get exactly zero weight: -inf before the softmax, so padding and future\n"
        "tokens have no influence at all (measured: 0.0), and a fully masked row is zeros.\n"
        "Without 1/sqrt(d_k) the score std grows like sqrt(d_k): the softmax saturates to\n"
        "one-hot rows and its gradient vanishes; a temperature T < 1 does the same, T > 1\n"
        "flattens the weights. Mask conventions differ: SDPA True = attend, MHA True = masked."
    ),
)

_VAE = Demo(
    id="vae",
    title="Variational autoencoder on 8x8 digits",
    explanation=(
        "An MLP encoder maps each 8x8 digit to the mean and log-variance of a Gaussian q(z|x); "
        "a latent is drawn with the reparameterisation z = mu + sigma * eps so the sample stays "
        "differentiable; an MLP decoder gives Bernoulli pixel logits. Training maximises the "
        "evidence lower bound, ELBO = E_q[log p(x|z)] - KL(q(z|x) || N(0, I)), i.e. minimises a "
        "reconstruction cross-entropy plus a closed-form KL term (weighted by --beta, 1 for the "
        "ELBO), on digits binarised so that the Bernoulli nats are a true likelihood. The run "
        "shows the loss curve, "
        "reconstructions, samples from the prior and a walk through latent space, and checks "
        "the test -ELBO against a mean-image baseline, that the KL term is in use (no posterior "
        "collapse), that a classifier trained on real digits recognises the reconstructions, "
        "and that the analytic KL matches a Monte Carlo estimate."
    ),
    module="labdeck.demos.vae",
    topics=("C3.3", "C3.4"),
    keywords=(
        "vae",
        "variational autoencoder",
        "elbo",
        "kl divergence",
        "reparameterization",
        "reparameterisation",
        "latent space",
        "generative model",
    ),
    params=(
        Param("epochs", int, 300, "training epochs over the 1437 training digits", min=1, max=5000),
        Param("latent", int, 8, "latent dimension", min=1, max=64),
        Param("hidden", int, 512, "hidden units in encoder and decoder", min=8, max=4096),
        Param("batch", int, 128, "minibatch size", min=1, max=1437),
        Param("lr", float, 3e-3, "Adam learning rate (cosine-decayed)", min=1e-6, max=1.0),
        Param(
            "beta",
            float,
            1.0,
            "weight of the KL term (beta-VAE): loss = recon + beta KL; the ELBO is beta = 1",
            min=0.0,
            max=50.0,
        ),
    ),
    presets=_frozen({"quick": {"epochs": 100}, "full": {}}),
    seconds=MappingProxyType({"quick": 6.5, "full": 10.5}),
    concepts=(
        "variational autoencoder",
        "elbo",
        "evidence lower bound",
        "reparameterisation trick",
        "reparameterization trick",
        "posterior collapse",
        "kl(q",
    ),
    notice=(
        "The loss is -ELBO = reconstruction NLL + KL(q(z|x) || N(0, I)), in nats per image;\n"
        "it upper-bounds -log p(x), so it must beat the mean-image baseline to mean anything.\n"
        "z = mu + sigma * eps keeps the sample differentiable (the reparameterisation trick).\n"
        "The KL term is closed form and matches a Monte Carlo estimate. Raise --beta and the KL\n"
        "shrinks towards 0 (posterior collapse: samples look alike, reconstructions blur);\n"
        "lower it and reconstructions sharpen while prior samples get worse."
    ),
)

_DDIM = Demo(
    id="ddim",
    title="DDPM vs DDIM sampling on a 2-D dataset",
    explanation=(
        "A small MLP learns to predict the noise eps that was added to a 2-D point, "
        "x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps, for T = 1000 steps of a linear beta "
        "schedule (the simplified DDPM loss). The same network then generates points in two "
        "ways: DDPM ancestral sampling walks back through all 1000 steps, adding fresh noise at "
        "each; DDIM predicts x_0 from the current point, jumps to an earlier step along a "
        "non-Markovian path and can skip steps (--steps; 50, 20, 10 are compared), "
        "deterministically when --eta is 0. "
        "The run plots the samples, counts model calls, times each sampler and measures quality "
        "against held-out points (unbiased MMD^2 and nearest-neighbour distance); it checks one "
        "DDIM step against the paper's formula, that DDIM with eta = 1 over all steps is DDPM, "
        "and that eta = 0 is deterministic."
    ),
    module="labdeck.demos.ddim",
    topics=("C5.3", "C5.4", "C5.5"),
    keywords=(
        "diffusion",
        "ddpm",
        "ddim",
        "denoising",
        "noise prediction",
        "sampling",
        "accelerated sampling",
        "x0 prediction",
        "generative model",
    ),
    params=(
        Param("dataset", str, "moons", "2-D training data", choices=("moons", "swissroll")),
        Param("train_steps", int, 12000, "optimiser steps", min=1, max=200000),
        Param("hidden", int, 64, "hidden units per layer of the noise MLP", min=8, max=1024),
        Param("batch", int, 256, "minibatch size", min=8, max=8192),
        Param("lr", float, 3e-3, "Adam learning rate (cosine-decayed)", min=1e-6, max=1.0),
        Param("samples", int, 1000, "points generated by each sampler", min=50, max=20000),
        Param("steps", int, 50, "model calls of the headline DDIM sampler", min=1, max=1000),
        Param(
            "eta",
            float,
            0.0,
            "DDIM stochasticity: 0 deterministic, 1 = DDPM's posterior noise",
            min=0.0,
            max=1.0,
        ),
    ),
    presets=_frozen({"quick": {"train_steps": 3000, "samples": 500}, "full": {}}),
    seconds=MappingProxyType({"quick": 8.5, "full": 21.0}),
    concepts=(
        "ddim",
        "ddpm",
        "forward process",
        "reverse process",
        "noise prediction",
        "predicts the noise",
        "denoising diffusion",
        "x_0 prediction",
        "deterministic sampling",
    ),
    notice=(
        "One network trained once with the simple DDPM loss serves both samplers: DDIM needs\n"
        "no retraining. DDPM walks all 1000 steps; DDIM jumps along a subsequence of steps via\n"
        "the predicted x_0, so 50 calls come close in quality and 10 visibly degrade (watch\n"
        "MMD^2 and the NN distance as you change --steps). eta = 0 is deterministic (same noise\n"
        "in, same points out); --eta 1 adds DDPM's noise, and over all 1000 steps it is DDPM."
    ),
)

_CTC = Demo(
    id="ctc",
    title="CTC: training a BiGRU without alignments, greedy and beam decoding",
    explanation=(
        "Connectionist Temporal Classification trains a frame classifier when only the label "
        "sequence is known, not which frame belongs to which label. The output alphabet gets an "
        "extra blank; a path is one symbol or blank per frame, and it maps to a labelling by "
        "merging repeats and then dropping blanks (so a blank must separate a doubled letter). "
        "The CTC loss is -log of the summed probability of all paths that map to the target, "
        "computed by a forward (dynamic-programming) recursion. A small bidirectional GRU learns "
        "synthetic sequences of noisy symbol frames; the run shows the loss, the frame-by-symbol "
        "posterior (the learned alignment, with blank spikes), and greedy and prefix "
        "beam-search decodings, and checks the loss against brute-force enumeration of paths."
    ),
    module="labdeck.demos.ctc",
    topics=("C8.3", "C8.5"),
    keywords=(
        "ctc",
        "connectionist temporal classification",
        "blank",
        "alignment",
        "beam search",
        "prefix beam search",
        "speech recognition",
        "asr",
        "rnn",
        "gru",
    ),
    params=(
        Param("train_steps", int, 400, "optimiser steps", min=1, max=20000),
        Param("symbols", int, 8, "alphabet size (not counting blank)", min=2, max=26),
        Param("hidden", int, 64, "GRU hidden units per direction", min=8, max=512),
        Param("batch", int, 32, "sequences per minibatch", min=1, max=512),
        Param("noise", float, 0.6, "std of the frame noise", min=0.0, max=5.0),
        Param("lr", float, 5e-3, "Adam learning rate", min=1e-6, max=1.0),
        Param("beam", int, 8, "prefix beam-search width", min=1, max=128),
    ),
    presets=_frozen({"quick": {"train_steps": 300}, "full": {}}),
    seconds=MappingProxyType({"quick": 8.5, "full": 10.5}),
    concepts=(
        "ctc",
        "connectionist temporal classification",
        "blank symbol",
        "prefix beam search",
        "alignment-free",
    ),
    notice=(
        "The network was never told which frame belongs to which symbol: the loss sums over\n"
        "every alignment (the forward recursion equals brute-force enumeration). The learned\n"
        "posterior is peaky: mostly blank, with one spike per symbol, and a blank separates a\n"
        "doubled symbol. Greedy decoding takes the best path; prefix beam search sums paths\n"
        "per labelling and so finds the most probable labelling, which greedy can miss."
    ),
)


def _multiple_of(name: str, n: int) -> Constraint:
    def rule(v: Mapping[str, Any]) -> tuple[str, str] | None:
        if v[name] % n:
            return name, f"must be a multiple of {n}, got {v[name]}"
        return None

    return rule


_DECODING = Demo(
    id="decoding",
    title="Decoding a tiny language model: greedy, beam search, temperature, top-k, top-p",
    explanation=(
        "A 2-layer character-level Transformer is trained in seconds on a short English text "
        "shipped with labdeck (teacher forcing: every next character of a window predicted in "
        "one parallel pass), then decoded. Greedy takes the argmax at each step; beam search "
        "keeps the B most probable partial sentences and ranks finished ones by log p divided "
        "by the GNMT length penalty ((5 + L) / 6)^alpha; sampling draws from softmax(z / T) "
        "after top-k (keep the k most probable tokens) and top-p (keep the smallest set whose "
        "mass reaches p) filtering, renormalised. The run compares greedy and beam outputs and "
        "their log-probabilities, shows how the length penalty lengthens beam outputs, and "
        "tabulates entropy and distinct-n diversity against temperature. It checks the filters "
        "against brute-force loops, that beams = 1 is greedy, and that a KV cache (keeping "
        "earlier keys and values) gives the same logits as recomputing the whole prefix."
    ),
    module="labdeck.demos.decoding",
    topics=("B5.1", "B5.3", "B3.4"),
    keywords=(
        "decoding",
        "greedy decoding",
        "beam search",
        "length penalty",
        "sampling",
        "temperature",
        "top-k",
        "top-p",
        "nucleus sampling",
        "kv cache",
        "language model",
        "autoregressive generation",
    ),
    params=(
        Param("temperature", float, 1.0, "sampling temperature T", min=0.01, max=10.0),
        Param("top_k", int, 0, "keep the k most probable tokens (0 = off)", min=0, max=100),
        Param("top_p", float, 1.0, "nucleus mass p (1 = off)", min=0.01, max=1.0),
        Param("beams", int, 4, "beam width", min=1, max=16),
        Param("length_penalty", float, 0.6, "GNMT length penalty exponent alpha", min=0, max=3),
        Param("train_steps", int, 700, "optimiser steps", min=1, max=20000),
        Param("d_model", int, 48, "model width (4 heads)", min=8, max=256),
    ),
    presets=_frozen({"quick": {"train_steps": 400}, "full": {}}),
    seconds=MappingProxyType({"quick": 9.0, "full": 14.0}),
    constraints=(_multiple_of("d_model", 4),),
    concepts=(
        "greedy",
        "beam search",
        "length penalty",
        "temperature",
        "top-k",
        "top-p",
        "nucleus",
        "sampling",
        "kv cache",
        "kv-cache",
        "decoding",
    ),
    notice=(
        "- beams = 1 (without length penalty) is greedy; wider beams find more probable continuations, and without a "
        "length penalty they favour short sentences (alpha > 0 lengthens them).\n"
        "- Entropy and distinct-n rise with temperature while the NLL of the samples under the "
        "model rises too: diversity is bought with quality.\n"
        "- top-k and top-p only cut the tail and renormalise; top-p's support adapts to how "
        "peaked the distribution is.\n"
        "- The KV cache changes the cost, not the logits (identical in float64)."
    ),
)


def _even_head_width(v: Mapping[str, Any]) -> tuple[str, str] | None:
    if v["heads"] and (v["d_model"] // v["heads"]) % 2:
        return "d_model", f"divided by heads must be even (RoPE rotates pairs), got {v['d_model']}"
    return None


_POSITIONS = Demo(
    id="positions",
    title="Position encodings: sinusoidal, learned, RoPE, ALiBi, interpolation, extrapolation",
    explanation=(
        "Attention alone cannot tell which key came just before a query, so Transformers add "
        "position information. Sinusoidal encodings add sin/cos of m w_i to the input (a fixed "
        "offset is a rotation of each sin/cos pair); learned encodings add a trained table; "
        "RoPE rotates each query/key pair by m theta_i so that the score depends only on the "
        "offset m - n; ALiBi adds -s_h (m - n) to the scores with geometric slopes "
        "s_h = 2^(-8h/H); position interpolation runs a RoPE model past its training length by "
        "scaling positions by L / L'. A one-layer Transformer with each encoding learns an "
        "order-2 Markov chain (it must find the previous token) on short sequences and is "
        "evaluated on longer ones, against the true conditional entropy. The run checks the "
        "formulas and the relative-offset property of RoPE in float64."
    ),
    module="labdeck.demos.positions",
    topics=("B3.2", "B10.3", "B10.4", "B10.5", "B10.6", "I2.4", "I2.13"),
    keywords=(
        "positional encoding",
        "position embedding",
        "sinusoidal",
        "learned positions",
        "rope",
        "rotary",
        "alibi",
        "position interpolation",
        "length extrapolation",
        "relative position",
        "context length",
    ),
    params=(
        Param("train_len", int, 16, "training sequence length", min=8, max=64),
        Param(
            "max_factor", int, 8, "evaluate up to this many times the training length", min=1, max=8
        ),
        Param("heads", int, 8, "attention heads (ALiBi gets one slope each)", min=1, max=16),
        Param("d_model", int, 32, "model width (d_model / heads must be even)", min=8, max=128),
        Param("vocab", int, 6, "tokens of the Markov chain", min=2, max=16),
        Param("train_steps", int, 500, "optimiser steps per encoding", min=1, max=20000),
        Param("lr", float, 1e-2, "AdamW learning rate (one-cycle)", min=1e-5, max=0.1),
    ),
    presets=_frozen({"quick": {"train_steps": 250}, "full": {}}),
    seconds=MappingProxyType({"quick": 9.0, "full": 17.0}),
    constraints=(_divides("d_model", "heads"), _even_head_width),
    concepts=(
        "positional encoding",
        "position encoding",
        "positional embedding",
        "sinusoidal",
        "rope",
        "rotary",
        "alibi",
        "position interpolation",
        "extrapolat",
        "relative position",
    ),
    notice=(
        "- Without positions the model cannot find the previous token: its loss stays near "
        "the order-1 baseline.\n"
        "- At the training length every encoding works; beyond it, learned positions fail "
        "(untrained rows), while RoPE and ALiBi, which only see offsets, keep working.\n"
        "- Position interpolation keeps RoPE positions inside [0, L) but shrinks the neighbour "
        "offset to L/L'; on this local task it hurts even after fine-tuning, while plain RoPE "
        "fine-tuned for the same steps recovers.\n"
        "- The RoPE score q.k is identical for every (m, n) with the same m - n."
    ),
)


def _positive_temperature(v: Mapping[str, Any]) -> tuple[str, str] | None:
    if 0 < v["temperature"] < 0.01:
        return "temperature", f"must be 0 (learnable) or at least 0.01, got {v['temperature']}"
    return None


_CONTRASTIVE = Demo(
    id="contrastive",
    title="CLIP-style contrastive learning: symmetric InfoNCE, temperature, the log N bound",
    explanation=(
        "Two synthetic modalities are generated from a shared latent through two different "
        "random nonlinear maps plus noise. Two encoders map each view to a unit vector; the "
        "N x N matrix of cosine similarities divided by a temperature (learnable as in CLIP, "
        "or fixed) is scored with a cross-entropy whose correct class is the diagonal, once "
        "along the rows (A retrieves B) and once along the columns (B retrieves A), and the "
        "two are averaged. The run reports recall@1 and recall@5 in both directions among "
        "1000 held-out pairs, and evaluates the mutual-information lower bound "
        "I(A; B) >= log N - InfoNCE for batch sizes N from 2 to 1024: tight at small N, then "
        "saturating, since it can never exceed log N. It checks the loss against "
        "F.cross_entropy on the logits and their transpose."
    ),
    module="labdeck.demos.contrastive",
    topics=("C1.2", "C1.5", "C2.1", "I4.4"),
    keywords=(
        "contrastive learning",
        "infonce",
        "clip",
        "symmetric cross-entropy",
        "temperature",
        "mutual information",
        "negatives",
        "batch size",
        "retrieval",
        "recall@k",
        "multimodal embeddings",
    ),
    params=(
        Param("batch", int, 256, "training batch size N (N - 1 negatives each)", min=2, max=2048),
        Param(
            "temperature",
            float,
            0.0,
            "fixed temperature tau (0 = learnable, as in CLIP)",
            min=0.0,
            max=10.0,
        ),
        Param("noise", float, 0.5, "noise std added to each view", min=0.0, max=5.0),
        Param("hidden", int, 128, "hidden units of each encoder", min=8, max=1024),
        Param("train_steps", int, 1000, "optimiser steps", min=1, max=20000),
        Param("lr", float, 3e-3, "AdamW learning rate (one-cycle)", min=1e-5, max=0.1),
    ),
    presets=_frozen({"quick": {"train_steps": 400}, "full": {}}),
    seconds=MappingProxyType({"quick": 5.0, "full": 7.0}),
    constraints=(_positive_temperature,),
    concepts=(
        "infonce",
        "contrastive",
        "clip",
        "in-batch negatives",
        "mutual information",
        "retrieval",
        "temperature",
    ),
    notice=(
        "- The loss is two cross-entropies over the same logits: rows (A -> B) and columns "
        "(B -> A).\n"
        "- log N - loss tracks log N for small batches and flattens for large ones: the bound "
        "cannot exceed log N, so small batches cannot certify much information.\n"
        "- The learnable temperature moves from its 0.07 start to suit the data; a fixed large "
        "temperature blurs the softmax and retrieval suffers.\n"
        "- Retrieval works in both directions because the objective is symmetric."
    ),
)


_LORA = Demo(
    id="lora",
    title="LoRA vs a bottleneck adapter vs full fine-tuning",
    explanation=(
        "An MLP is pretrained on 8x8 digits (task A) and adapted to task B, the same digits "
        "transposed or with inverted ink. LoRA freezes every weight matrix W and learns a "
        "low-rank update (alpha / r) B A, with A random and B zero so training starts from "
        "exactly the pretrained model; it trains r (d_in + d_out) parameters per layer instead "
        "of d_in d_out, and can be merged into W afterwards at no inference cost. A bottleneck "
        "adapter (down-projection, ReLU, zero-initialised up-projection, residual) is inserted "
        "after each hidden layer; full fine-tuning trains everything. The run sweeps the LoRA "
        "rank 1, 2, 4, 8, tabulates trainable parameters and accuracy on both tasks, and checks "
        "the zero start, the parameter counts, the frozen base, and that the merged weights "
        "give the same outputs as the unmerged adapter."
    ),
    module="labdeck.demos.lora",
    topics=("B12.1", "B12.2", "B12.3", "B12.4", "B12.6"),
    keywords=(
        "lora",
        "low-rank adaptation",
        "peft",
        "parameter-efficient fine-tuning",
        "adapter",
        "bottleneck adapter",
        "fine-tuning",
        "full fine-tuning",
        "catastrophic forgetting",
        "weight merging",
        "rank",
    ),
    params=(
        Param("task_b", str, "transpose", "the new task", choices=("transpose", "invert")),
        Param("rank", int, 4, "LoRA rank checked for merging (the sweep adds it)", min=1, max=64),
        Param(
            "alpha",
            float,
            8.0,
            "LoRA scale numerator: the update is (alpha / r) B A",
            min=0.01,
            max=256.0,
        ),
        Param("adapter_size", int, 16, "bottleneck width m of each adapter", min=1, max=256),
        Param("pretrain_steps", int, 600, "steps on task A", min=1, max=20000),
        Param("adapt_steps", int, 600, "steps on task B for each method", min=1, max=20000),
        Param(
            "lr",
            float,
            1e-2,
            "Adam learning rate (full fine-tuning uses a third)",
            min=1e-5,
            max=0.1,
        ),
    ),
    presets=_frozen({"quick": {"pretrain_steps": 300, "adapt_steps": 300}, "full": {}}),
    seconds=MappingProxyType({"quick": 7.0, "full": 10.0}),
    concepts=(
        "lora",
        "low-rank",
        "adapter",
        "parameter-efficient",
        "peft",
        "fine-tuning",
        "intrinsic rank",
    ),
    notice=(
        "- A rank-1 update (about 1% of the weights) already recovers most of task B; "
        "higher ranks approach full fine-tuning.\n"
        "- Merging W + (alpha/r) B A changes nothing but rounding: the deployed model has no "
        "extra layers.\n"
        "- Full fine-tuning overwrites the task-A model; LoRA and adapters leave it intact "
        "(switch them off to get it back bit for bit).\n"
        "- The counts are exact: r (d_in + d_out) per LoRA layer, 2 d m + d + m per adapter."
    ),
)


_GUIDANCE = Demo(
    id="guidance",
    title="Classifier-free guidance: one conditional diffusion model, a guidance-scale sweep",
    explanation=(
        "Two classes of 2-D points: eight Gaussian modes on a ring, alternately class 0 and "
        "class 1, neighbours overlapping. One noise-prediction network eps(x_t, t, c) is trained "
        "with the simple DDPM loss while each label is replaced by a null label with "
        "probability --p-uncond, so it learns the conditional and the unconditional prediction "
        "at once. Sampling runs ddim.py's DDIM sampler on the guided prediction "
        "eps~ = (1 + w) eps(x_t, c) - w eps(x_t, null) (Ho & Salimans' convention; it is "
        "eps(null) + s (eps(c) - eps(null)) with s = 1 + w in Stable Diffusion's). The run "
        "sweeps w and shows, per w, a scatter of the samples, the share the true Bayes "
        "classifier puts on the requested class, the spread within a mode, the modes covered "
        "and the share off the data, next to the tilted target p(x|c) p(c|x)^w, and the same "
        "for classifier guidance, eps(null) - s sqrt(1 - abar_t) grad log p_t(c | x_t), with "
        "the exact noisy classifier of the mixture (or, --classifier clean, the noise-free "
        "one applied to noisy points). It checks that "
        "w = 0 is exactly the conditional sampler and w = -1 the unconditional one, the guided "
        "prediction against its formula, and the guided DDIM trajectory against the paper's "
        "step written out in plain floats."
    ),
    module="labdeck.demos.guidance",
    topics=("C6.1", "C6.2"),
    keywords=(
        "classifier-free guidance",
        "classifier guidance",
        "cfg",
        "guidance",
        "guidance scale",
        "conditional diffusion",
        "null token",
        "condition dropout",
        "diffusion",
        "ddim",
    ),
    params=(
        Param(
            "scale",
            float,
            3.0,
            "guidance weight w of eps~ = (1 + w) eps(c) - w eps(null); joins the sweep 0..4",
            min=-1.0,
            max=20.0,
        ),
        Param(
            "p_uncond",
            float,
            0.2,
            "probability a training label is replaced by the null label",
            min=0.0,
            max=1.0,
        ),
        Param(
            "classifier",
            str,
            "noisy",
            "classifier guidance's classifier: exact on noisy x_t, or the clean-data one",
            choices=("noisy", "clean"),
        ),
        Param("steps", int, 50, "DDIM steps (two model calls each)", min=1, max=1000),
        Param("eta", float, 0.0, "DDIM stochasticity (1 over 1000 steps = DDPM)", min=0, max=1),
        Param("train_steps", int, 6000, "optimiser steps", min=1, max=200000),
        Param("hidden", int, 64, "hidden units per layer of the noise MLP", min=8, max=1024),
        Param("batch", int, 256, "minibatch size", min=8, max=8192),
        Param("lr", float, 1e-2, "Adam learning rate (cosine-decayed)", min=1e-6, max=1.0),
        Param("samples", int, 1000, "points per w (half per class)", min=20, max=20000),
    ),
    presets=_frozen({"quick": {"train_steps": 1500, "samples": 600}, "full": {}}),
    seconds=MappingProxyType({"quick": 9.0, "full": 22.0}),
    concepts=(
        "classifier-free guidance",
        "classifier guidance",
        "guidance scale",
        "null token",
        "unconditional prediction",
    ),
    notice=(
        "- One network, two predictions: dropping the label to a null token during training "
        "teaches eps(x, null) next to eps(x, c).\n"
        "- w = 0 (s = 1) is exactly the conditional sampler; raising w pushes samples away from "
        "the other class: more land on the requested class, and they crowd into a mode's far "
        "side (spread falls, some leave the data's support): fidelity bought with diversity.\n"
        "- Each step costs two network calls (conditional and null), and no classifier is "
        "trained. Classifier guidance with scale s = 1 + w aims at the same target with an "
        "explicit classifier's gradient; it must be the noisy-data classifier p_t(c | x_t) "
        "(--classifier clean shows what a clean-data one does).\n"
        "- --p-uncond 0 never trains the null label: the unconditional prediction is "
        "meaningless and guidance extrapolates away from noise; --p-uncond 1 never trains the "
        "class labels."
    ),
)


_VQ = Demo(
    id="vq",
    title="Discrete latents: VQ-VAE (straight-through) and Gumbel-softmax on 8x8 digits",
    explanation=(
        "Each binarised 8x8 digit is encoded as a few tokens, each one of K codebook vectors. "
        "The VQ-VAE replaces each encoder output z_e by its nearest code e_k; argmin has no "
        "gradient, so the straight-through estimator z_q = z_e + sg(e_k - z_e) copies the "
        "decoder's gradient to the encoder, and the codebook learns from || sg(z_e) - e_k ||^2 "
        "while a commitment term beta || z_e - sg(e_k) ||^2 keeps the encoder near its codes. "
        "The Gumbel-softmax variant (DALL-E's dVAE) samples a code per token from softmax "
        "logits with Gumbel noise, relaxed to softmax((l + g) / tau) with tau annealed towards "
        "0; with hard=True the forward pass is one-hot and the gradient is the soft sample's; "
        "a KL term to a uniform prior keeps the codes in use. The run reports the test "
        "reconstruction in nats against the 0-nat floor of binary pixels and the mean-image "
        "baseline, codebook perplexity and dead codes, and draws digits, their codes and "
        "reconstructions. It checks the straight-through gradient with autograd, the "
        "quantizer against torch.cdist, and the hard Gumbel-softmax's one-hot forward pass, "
        "its gradient and its sampling distribution."
    ),
    module="labdeck.demos.vq",
    topics=("C3.5", "C3.6", "C5.2"),
    keywords=(
        "vq-vae",
        "vector quantization",
        "vector quantisation",
        "codebook",
        "straight-through estimator",
        "commitment loss",
        "gumbel-softmax",
        "discrete vae",
        "dvae",
        "discrete latents",
        "visual tokens",
    ),
    params=(
        Param("quantizer", str, "vq", "how tokens are chosen", choices=("vq", "gumbel")),
        Param("codebook", int, 32, "codebook size K", min=2, max=1024),
        Param(
            "beta",
            float,
            0.25,
            "commitment weight (vq) or KL-to-uniform weight (gumbel)",
            min=0.0,
            max=10.0,
        ),
        Param("tokens", int, 4, "tokens per digit L", min=1, max=16),
        Param("code_dim", int, 8, "dimension D of each code vector", min=1, max=64),
        Param("tau_min", float, 0.1, "final Gumbel-softmax temperature (from 1)", min=0.01, max=1),
        Param("epochs", int, 150, "training epochs over the 1437 training digits", min=1, max=5000),
        Param("hidden", int, 256, "hidden units in encoder and decoder", min=8, max=4096),
        Param("lr", float, 2e-3, "Adam learning rate (cosine-decayed)", min=1e-6, max=1.0),
    ),
    presets=_frozen({"quick": {"epochs": 60}, "full": {}}),
    seconds=MappingProxyType({"quick": 8.0, "full": 12.5}),
    concepts=(
        "vq-vae",
        "codebook",
        "straight-through",
        "gumbel-softmax",
        "discrete vae",
        "dvae",
        "commitment loss",
    ),
    notice=(
        "- A digit becomes a few integers: the decoder sees only the chosen codes, and at most "
        "L log K nats get through.\n"
        "- argmin has no gradient: the straight-through copy z_e + sg(e_k - z_e) passes the "
        "decoder's gradient to the encoder unchanged; the codebook learns only from its own "
        "term, the encoder is held near its codes by the commitment term.\n"
        "- Codes never chosen get no gradient and stay dead; perplexity counts the codes in "
        "use.\n"
        "- Gumbel-softmax with hard=True is one-hot forward with the soft sample's gradient; "
        "annealing tau trades gradient bias for variance.\n"
        "- Decoding random codes gives scribbles: generation needs a learned prior over tokens "
        "(PixelCNN, or DALL-E's Transformer)."
    ),
)


FLASH_MAX_TILES = 64  # tiles per side, ceil(N / B): the Python tile loop runs (N / B)^2 times


def _flash_tiles(v: Mapping[str, Any]) -> tuple[str, str] | None:
    tiles = -(-v["seq_len"] // v["block"])
    if tiles > FLASH_MAX_TILES:
        return "block", (
            f"must give at most {FLASH_MAX_TILES} tiles per side (seq_len / block, rounded up; "
            f"the tile loop runs that squared), got {tiles} for seq_len={v['seq_len']}"
        )
    return None


_FLASH = Demo(
    id="flash",
    title="FlashAttention's forward: online softmax over tiles, exact, with counted memory traffic",
    explanation=(
        "Exact attention computed tile by tile, as FlashAttention does on a GPU: blocks of "
        "queries, keys and values are brought on chip, and each query row's softmax is built "
        "from a running maximum m and a running sum l; when a new key block raises the "
        "maximum, the partial sum and the output accumulator are rescaled by e^(m_old - m_new), "
        "so the result equals softmax(Q K^T / sqrt(d)) V without the N x N score matrix ever "
        "being stored. Both loop orders are written out (the paper's Algorithm 1 and "
        "FlashAttention-2's) against a model of GPU memory (HBM) that counts every element read "
        "or written. The run compares them with torch's scaled_dot_product_attention and the "
        "naive formula in float64 and float32, shows the online softmax of one row tile by "
        "tile, shows that large scores do not overflow, and tabulates HBM reads and writes of "
        "the standard algorithm (Theta(N d + N^2)) and the tiled ones (Theta(N^2 d^2 / M)) per "
        "tile size, checked against the closed forms."
    ),
    module="labdeck.demos.flash",
    topics=("B10.7", "B5.3", "I2.6", "I5.3"),
    keywords=(
        "flashattention",
        "flash attention",
        "online softmax",
        "tiling",
        "io-aware",
        "memory-bound",
        "hbm",
        "sram",
        "attention",
        "exact attention",
    ),
    params=(
        Param("seq_len", int, 1024, "sequence length N", min=1, max=2048),
        Param("block", int, 128, "tile size B (rows of Q and of K/V per tile)", min=1, max=2048),
        Param("d_head", int, 64, "head width d", min=1, max=256),
        Param("causal", bool, False, "causal mask: tiles above the diagonal are skipped"),
    ),
    presets=_frozen({"quick": {"seq_len": 512}, "full": {}}),
    seconds=MappingProxyType({"quick": 3.0, "full": 4.0}),
    constraints=(_flash_tiles,),
    concepts=(
        "flashattention",
        "flash attention",
        "online softmax",
        "io-aware",
        "tiling",
        "memory traffic",
    ),
    notice=(
        "- Tiled attention is exact: it matches torch SDPA to rounding (float64 ~1e-15), "
        "because every partial sum is rescaled to the running maximum.\n"
        "- The running max keeps every exponent <= 0: scores far beyond e^88 do not overflow.\n"
        "- The standard algorithm moves Theta(N^2) elements through HBM (S and P); the tiled "
        "ones move Theta(N^2 d / B): larger tiles (more SRAM) mean less traffic.\n"
        "- The FLOPs are the same 4 N^2 d (fewer when causal tiles are skipped): the win is "
        "memory traffic and O(N) extra memory, not arithmetic."
    ),
)


_SPECULATIVE = Demo(
    id="speculative",
    title="Speculative decoding: draft, verify in one target call, accept with min(1, p/q)",
    explanation=(
        "A small draft model q proposes gamma tokens; the target model p scores all of them "
        "in one parallel pass; each draft token x is accepted with probability "
        "min(1, p(x)/q(x)), the first rejected one is replaced by a sample from the normalised "
        "residual max(0, p - q), and when all are accepted one bonus token is drawn from p. "
        "Since min(p, q) + (1 - beta) norm(max(0, p - q)) = p, with beta = sum min(p, q) the "
        "acceptance probability, every token is an exact sample from the target. The target is "
        "a 2-layer character Transformer trained in the demo on labdeck's shipped text; the "
        "drafts are unigram, bigram and trigram counts of the same text. The run tabulates the "
        "acceptance rate and the tokens per target call against draft quality and gamma (with "
        "the i.i.d. prediction (1 - a^(g+1)) / (1 - a)), checks the identity on every (p, q) "
        "pair met, that at temperature 0 the output equals greedy decoding with the target "
        "(assisted generation), and runs a chi-squared goodness-of-fit test on a 4-token "
        "vocabulary with exactly known target and draft, where two planted mistakes fail."
    ),
    module="labdeck.demos.speculative",
    topics=("B5.4", "B5.5"),
    keywords=(
        "speculative decoding",
        "speculative sampling",
        "assisted generation",
        "draft model",
        "rejection sampling",
        "acceptance rate",
        "llm inference",
        "decoding",
    ),
    params=(
        Param(
            "gamma", int, 4, "draft length: tokens the draft proposes per target call", min=1, max=8
        ),
        Param(
            "temperature",
            float,
            1.0,
            "temperature of target and draft (0 = greedy: assisted generation)",
            min=0.0,
            max=5.0,
        ),
        Param(
            "samples", int, 40000, "sequences drawn for the chi-squared test", min=100, max=200000
        ),
        Param("train_steps", int, 250, "optimiser steps for the target model", min=1, max=20000),
        Param("d_model", int, 48, "target model width (4 heads)", min=8, max=256),
    ),
    presets=_frozen({"quick": {"samples": 10000}, "full": {}}),
    seconds=MappingProxyType({"quick": 8.0, "full": 10.0}),
    constraints=(_multiple_of("d_model", 4),),
    concepts=(
        "speculative",
        "assisted generation",
        "draft model",
        "draft token",
        "min(1, p(x)/q(x))",
        "residual distribution",
        "acceptance rate",
    ),
    notice=(
        "- Every emitted token is an exact sample from the target, whatever the draft: the "
        "chi-squared test cannot tell the two apart, while the planted mistakes fail it.\n"
        "- A better draft is accepted more often (unigram < bigram < trigram), so each target "
        "call yields more tokens; the acceptance rate is the mean of sum min(p, q).\n"
        "- Longer drafts (gamma) help while acceptance is high, with diminishing returns "
        "towards 1 / (1 - alpha); rejected drafts are wasted draft calls.\n"
        "- At temperature 0 the rule is assisted generation: the output is identical to "
        "greedy decoding with the target alone."
    ),
)


_DEMOS: dict[str, Demo] = {
    d.id: d
    for d in (
        _ATTENTION,
        _VAE,
        _DDIM,
        _CTC,
        _DECODING,
        _POSITIONS,
        _CONTRASTIVE,
        _LORA,
        _GUIDANCE,
        _VQ,
        _FLASH,
        _SPECULATIVE,
    )
}

DEMO_IDS: frozenset[str] = frozenset(_DEMOS)


def get(demo_id: str) -> Demo:
    """The demo with this id, or :class:`UnknownDemo` (a ``KeyError``)."""
    try:
        return _DEMOS[demo_id]
    except (KeyError, TypeError):
        raise UnknownDemo(demo_id) from None


def all_demos() -> list[Demo]:
    """Every demo, in menu order."""
    return list(_DEMOS.values())


def demos_for(tags: Iterable[str]) -> list[Demo]:
    """Demos whose outline topics or keywords match any of ``tags`` (case-insensitive)."""
    wanted = {t.strip().lower() for t in tags}
    return [d for d in _DEMOS.values() if wanted & {t.lower() for t in d.tags}]


def run_timeout(demo: Demo, preset: str | None) -> float:
    """Wall-time limit of one run (CLI and TUI alike): 10x the one-thread estimate, >= 2 min.

    The factor covers a loaded machine (two cores shared with other work ran the quick presets
    3-4x slower than on an idle core) and a first run that pays for imports and training."""
    return max(120.0, 10.0 * float(demo.seconds.get(preset or "full", 30.0)))


def validate(
    demo_id: str, overrides: Mapping[str, Any] | None = None, preset: str | None = None
) -> dict[str, Any]:
    """Resolve and validate parameters for ``demo_id``; raises UnknownDemo / InvalidParameter."""
    return get(demo_id).resolve(overrides, preset)

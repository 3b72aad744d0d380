"""Calibration: from grading signals to a score in [0, 1] and an SM-2 quality 0-5.

The model is deliberately small: a weighted sum of a few signals ``z = w · x`` and five ordered
cut-points (a cumulative-logit ordinal regression, ``P(q > k) = sigmoid(z - c_k)``). The
suggested quality is the number of cut-points below ``z`` (the median of that distribution) and
the score is the expected quality divided by 5, so both are monotone in ``z``. Weights have
fixed signs (more similarity never lowers the grade; a contradiction never raises it).
A second logistic model on the same signals (same signs) decides pass/fail: it moves the
quality across the 2 <-> 3 boundary when it disagrees with the ordinal model (``apply_pass``).
Both models are fitted on the labelled items twice over, with their key points as given and with
key points derived from the reference (``fit_shipped``), so one parameter set serves cards with
and without key points; ``cross_validate_both`` evaluates both conditions the same way.

This module is what grading needs at run time: parameter loading, the ordinal and pass/fail
application and the confidence verdict. Fitting (scipy, cross-validation, ``labdeck grade-eval``)
lives in ``fitting.py``; grading itself only reads the constants in ``params.py``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from labdeck.grading.abstain import ConfidenceModel, confidence_inputs, probe_input
from labdeck.grading.signals import Sides, Signals

# Order of the signal vector. Signs: +1 weight >= 0, -1 weight <= 0, 0 free.
FEATURES: tuple[str, ...] = (
    "sim",
    "coverage",
    "precision",
    "terms",
    "length",
    "cross",
    "swaps",
)
SIGNS: dict[str, int] = {
    "sim": 1,
    "coverage": 1,
    "precision": 1,
    "terms": 1,
    "length": 1,
    "cross": 1,
    "swaps": -1,
    "negations": -1,
    "derived": 0,
    "probe": 1,
}
BASELINE_FEATURES: tuple[str, ...] = ("sim",)
N_LEVELS = 6  # qualities 0..5
PASS = 3


@dataclass(frozen=True)
class Params:
    model_id: str
    features: tuple[str, ...]
    weights: tuple[float, ...]
    cutpoints: tuple[float, ...]
    cover_threshold: float = 0.5
    support_range: tuple[float, float] = (0.2, 0.4)
    # Pass/fail model (logistic, same features): decides the 2 <-> 3 boundary when present.
    pass_weights: tuple[float, ...] | None = None
    pass_bias: float = 0.0
    # Confidence model (``abstain.py``): weights and bias over its inputs, and the threshold at
    # which the verdict is 'sure'. Without one every suggestion is sure (confidence 1).
    confidence_weights: tuple[float, ...] | None = None
    confidence_bias: float = 0.0
    sure_threshold: float = 0.0
    # The e5 pair probe (``e5probe.py``, ``probefit.py``): ridge weights over the pair
    # reader's vector and a bias; its output is the signal ``probe``. None without one.
    probe_weights: tuple[float, ...] | None = None
    probe_bias: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "features": list(self.features),
            "weights": [round(float(w), 5) for w in self.weights],
            "cutpoints": [round(float(c), 5) for c in self.cutpoints],
            "cover_threshold": round(float(self.cover_threshold), 4),
            "support_range": [float(x) for x in self.support_range],
        }
        if self.pass_weights is not None:
            out["pass_weights"] = [round(float(w), 5) for w in self.pass_weights]
            out["pass_bias"] = round(float(self.pass_bias), 5)
        if self.confidence_weights is not None:
            out["confidence_weights"] = [round(float(w), 5) for w in self.confidence_weights]
            out["confidence_bias"] = round(float(self.confidence_bias), 5)
            out["sure_threshold"] = round(float(self.sure_threshold), 4)
        if self.probe_weights is not None:
            out["probe_weights"] = [round(float(w), 5) for w in self.probe_weights]
            out["probe_bias"] = round(float(self.probe_bias), 5)
        return out

    def probe_of(self, pair: Any) -> float | None:
        """The probe signal for one pair vector (None without a probe or a vector)."""
        if self.probe_weights is None or pair is None:
            return None
        return float(np.dot(self.probe_weights, pair)) + self.probe_bias

    def confidence_model(self) -> ConfidenceModel | None:
        if self.confidence_weights is None:
            return None
        return ConfidenceModel(self.confidence_weights, self.confidence_bias, self.sure_threshold)


def params_for(model_id: str, baseline: bool = False) -> Params:
    """The shipped parameters for ``model_id``; unknown sentence-transformers models fall back
    to the packaged MiniLM's, anything else to the default model's."""
    from labdeck.grading import params as shipped

    table: Mapping[str, Mapping[str, Any]] = shipped.BASELINE if baseline else shipped.PARAMS
    key = model_id
    if key not in table:
        key = shipped.ST_FALLBACK if model_id.startswith("st:") else shipped.DEFAULT_MODEL
    if key not in table:
        key = shipped.DEFAULT_MODEL
    raw = table[key]
    low, high = raw.get("support_range", (0.2, 0.4))
    return Params(
        model_id=model_id,
        features=tuple(raw["features"]),
        weights=tuple(float(w) for w in raw["weights"]),
        cutpoints=tuple(float(c) for c in raw["cutpoints"]),
        cover_threshold=float(raw.get("cover_threshold", 0.5)),
        support_range=(float(low), float(high)),
        pass_weights=(
            tuple(float(w) for w in raw["pass_weights"]) if raw.get("pass_weights") else None
        ),
        pass_bias=float(raw.get("pass_bias", 0.0)),
        confidence_weights=(
            tuple(float(w) for w in raw["confidence_weights"])
            if raw.get("confidence_weights")
            else None
        ),
        confidence_bias=float(raw.get("confidence_bias", 0.0)),
        sure_threshold=float(raw.get("sure_threshold", 0.0)),
        probe_weights=(
            tuple(float(w) for w in raw["probe_weights"]) if raw.get("probe_weights") else None
        ),
        probe_bias=float(raw.get("probe_bias", 0.0)),
    )


# --- applying ---------------------------------------------------------------------------------


def feature_value(sig: Signals, name: str) -> float:
    if name == "terms":
        return 0.0 if sig.terms is None else sig.terms - 0.5
    if name == "probe":
        return 0.0 if sig.probe is None else sig.probe
    if name in ("swaps", "negations"):
        return float(min(getattr(sig, name), 2))
    return float(getattr(sig, name))


def vector(sig: Signals, features: Sequence[str] = FEATURES) -> np.ndarray:
    return np.array([feature_value(sig, f) for f in features], dtype=np.float64)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def predict_z(
    weights: Sequence[float] | np.ndarray, cutpoints: Sequence[float] | np.ndarray, z: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(quality, score) arrays for latent values ``z``."""
    c = np.asarray(cutpoints, dtype=np.float64)
    above = _sigmoid(z[:, None] - c[None, :])  # P(q > k) for k = 0..4
    quality = (z[:, None] > c[None, :]).sum(axis=1)
    score = above.sum(axis=1) / (N_LEVELS - 1)
    return quality.astype(int), np.clip(score, 0.0, 1.0)


def apply_pass(
    quality: int, x: np.ndarray, pass_model: tuple[Sequence[float], float] | None
) -> int:
    """The pass/fail model, when there is one, decides the 2 <-> 3 boundary: a pass lifts a
    quality below 3 to 3, a fail caps a quality of 3 or more at 2. Qualities 0-1 and 4-5 stay
    when the two models agree on pass/fail."""
    if pass_model is None:
        return quality
    w, b = pass_model
    passed = float(np.dot(w, x)) + b > 0.0
    if passed and quality < PASS:
        return PASS
    if not passed and quality >= PASS:
        return PASS - 1
    return quality


CONTRADICTION_CAP = 3  # no quality above this while a key point is shown as contradicted


def cap_contradicted(quality: int, sig: Signals) -> int:
    """The suggestion never contradicts its own panel: a key point shown as contradicted caps
    the quality at 3 (as the learner's ticks would, ``checklist.quality_from_ticks``)."""
    return min(quality, CONTRADICTION_CAP) if sig.contradicted else quality


def _pass_model(params: Params) -> tuple[tuple[float, ...], float] | None:
    return None if params.pass_weights is None else (params.pass_weights, params.pass_bias)


@dataclass(frozen=True)
class Assessment:
    score: float
    quality: int
    confidence: float
    sure: bool


def assess_one(params: Params, sig: Signals) -> Assessment:
    """Score, quality (pass/fail model and contradiction cap applied), confidence and verdict
    for one answer against one reference side."""
    x = vector(sig, params.features)
    z = float(np.dot(params.weights, x))
    quality, score = predict_z(params.weights, params.cutpoints, np.array([z]))
    pm = _pass_model(params)
    q = cap_contradicted(apply_pass(int(quality[0]), x, pm), sig)
    model = params.confidence_model()
    if model is None:
        return Assessment(float(score[0]), q, 1.0, True)
    logit = None if pm is None else float(np.dot(pm[0], x)) + pm[1]
    conf = model.confidence(confidence_inputs(z, params.cutpoints, logit, probe_input(params, sig)))
    return Assessment(float(score[0]), q, conf, conf >= model.threshold)


def predict_one(params: Params, sig: Signals) -> tuple[float, int]:
    a = assess_one(params, sig)
    return a.score, a.quality


def assess_many(
    params: Params, signals: Sequence[Sides]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(qualities, confidences, sure) for items given as lists of Signals (the best-scoring
    side wins, as in the grader) or None (empty answer: 0, confidence 1, sure)."""
    q: list[int] = []
    conf: list[float] = []
    sure: list[bool] = []
    for sides in signals:
        if not sides:
            q.append(0)
            conf.append(1.0)
            sure.append(True)
            continue
        best = max((assess_one(params, s) for s in sides), key=lambda a: a.score)
        q.append(best.quality)
        conf.append(best.confidence)
        sure.append(best.sure)
    return np.array(q), np.array(conf), np.array(sure, dtype=bool)


def predict(
    params_w: Sequence[float] | np.ndarray,
    params_c: Sequence[float] | np.ndarray,
    signals: Sequence[Sides],
    features: Sequence[str],
    pass_model: tuple[Sequence[float], float] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Quality and score for items given as lists of Signals (one per reference side; the best
    side wins) or None (empty answer → 0)."""
    qualities: list[int] = []
    scores: list[float] = []
    w = np.asarray(params_w, dtype=np.float64)
    for sides in signals:
        if not sides:
            qualities.append(0)
            scores.append(0.0)
            continue
        xs = [vector(s, features) for s in sides]
        zs = np.array([float(w @ x) for x in xs])
        q, sc = predict_z(w, params_c, zs)
        best = int(np.argmax(sc))
        qualities.append(
            cap_contradicted(apply_pass(int(q[best]), xs[best], pass_model), sides[best])
        )
        scores.append(float(sc[best]))
    return np.array(qualities), np.array(scores)

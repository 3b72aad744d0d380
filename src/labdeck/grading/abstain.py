"""Confidence and the sure / unsure verdict: when may the suggested quality stand?

The grader's errors are mostly on the pass/fail boundary (fluent wrong answers scored like
right ones), so confidence is read from how far each of the two calibrated models is from that
boundary and whether they agree:

* ``ordinal_margin``  |2·P(q ≥ 3) − 1| under the ordinal model, P(q ≥ 3) = σ(z − c₂);
* ``pass_margin``     |2·P(pass) − 1| under the pass/fail model;
* ``agree``           1 when both models put the answer on the same side of 2 ↔ 3.

A small logistic model maps them to ``confidence`` = P(the suggestion's pass/fail is right). It
is fitted on *out-of-writer* predictions: every writer's answers graded by base models fitted
on the other writers only (``out_of_writer_rows``), since the shipped models' in-sample margins
are too flattering. The verdict is ``sure`` when ``confidence`` reaches a threshold chosen on
the same rows as the lowest one whose sure answers reach ``TARGET_ACCURACY`` pass/fail
agreement (``choose_threshold``). Contradiction cues, swaps, negations, signal conflicts (sim
vs coverage), language crossing and the distance to the nearest cut-point were tried as extra
inputs and gained nothing in leave-one-writer-out CV (docs/grading.md).

Empty answers (quality 0 by rule) have confidence 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from labdeck.grading.calibration import Params
    from labdeck.grading.fitting import EvalData
    from labdeck.grading.signals import Sides, Signals

CONFIDENCE_FEATURES: tuple[str, ...] = ("ordinal_margin", "pass_margin", "agree")
# With the e5 pair probe (``probefit.py``) two more: its distance from the pass boundary
# (label 2.5) over 2.5, capped at 1, and whether it agrees with the pass/fail model.
PROBE_CONFIDENCE_FEATURES: tuple[str, ...] = ("probe_margin", "probe_agree")
PROBE_PASS = 2.5
TARGET_ACCURACY = 0.95  # pass/fail agreement wanted where the grader says sure
COVERAGES: tuple[float, ...] = (1.0, 0.8, 0.6, 0.5, 0.4)
PASS = 3


def _sigmoid(x: float) -> float:
    return 0.5 * (1.0 + float(np.tanh(0.5 * x)))


def confidence_inputs(
    z: float, cutpoints: Sequence[float], pass_logit: float | None, probe: float | None = None
) -> np.ndarray:
    """The confidence model's inputs for one answer (see module doc). Without a pass/fail
    model the ordinal model's margin stands in for both. With ``probe`` (the e5 pair probe's
    value, for parameter sets that weight it) two more inputs follow."""
    p_ord = _sigmoid(z - float(cutpoints[PASS - 1]))
    p_pass = p_ord if pass_logit is None else _sigmoid(pass_logit)
    agree = float((p_ord > 0.5) == (p_pass > 0.5))
    out = [abs(2 * p_ord - 1), abs(2 * p_pass - 1), agree]
    if probe is not None:
        out += [
            min(1.0, abs(probe - PROBE_PASS) / PROBE_PASS),
            float((probe > PROBE_PASS) == (p_pass > 0.5)),
        ]
    return np.array(out, dtype=np.float64)


def probe_input(params: Params, sig: Signals) -> float | None:
    """The probe value the confidence model reads for ``sig`` under ``params`` (None when the
    parameter set does not weight the probe)."""
    if "probe" not in params.features:
        return None
    return 0.0 if sig.probe is None else float(sig.probe)


@dataclass(frozen=True)
class ConfidenceModel:
    weights: tuple[float, ...]
    bias: float
    threshold: float  # sure when confidence >= threshold

    def confidence(self, inputs: np.ndarray) -> float:
        return _sigmoid(float(np.dot(self.weights, inputs)) + self.bias)

    def to_dict(self) -> dict[str, object]:
        return {
            "weights": [round(float(w), 5) for w in self.weights],
            "bias": round(float(self.bias), 5),
            "threshold": round(float(self.threshold), 4),
        }


def fit_confidence(
    inputs: np.ndarray, correct: np.ndarray, l2: float = 1.0
) -> tuple[tuple[float, ...], float]:
    """Logistic regression of 'pass/fail right' on the inputs; weights may only raise the
    confidence (more margin, agreement: never less sure)."""
    from labdeck.grading.fitting import fit_logistic

    w, b = fit_logistic(inputs, correct.astype(float), [1] * inputs.shape[1], l2=l2)
    return tuple(float(v) for v in w), float(b)


def choose_threshold(
    confidence: np.ndarray, correct: np.ndarray, target: float = TARGET_ACCURACY
) -> float:
    """The lowest threshold whose sure answers (confidence >= threshold) are right on pass/fail
    at least ``target`` of the time; among ties the one covering most. When none reaches the
    target, the one with the best accuracy over at least a tenth of the answers."""
    conf = np.asarray(confidence, dtype=np.float64)
    ok = np.asarray(correct, dtype=bool)
    order = np.argsort(-conf, kind="stable")
    hits = np.cumsum(ok[order])
    counts = np.arange(1, len(conf) + 1)
    acc = hits / counts
    sorted_conf = conf[order]
    # only cut between distinct confidence values
    last_of_value = np.append(sorted_conf[1:] != sorted_conf[:-1], True)
    reach = np.flatnonzero(last_of_value & (acc >= target))
    if len(reach):
        return float(sorted_conf[reach[-1]])
    floor = max(1, len(conf) // 10)
    candidates = np.flatnonzero(last_of_value & (counts >= floor))
    best = candidates[np.argmax(acc[candidates])]
    return float(sorted_conf[best])


def fit_model(inputs: np.ndarray, correct: np.ndarray) -> ConfidenceModel:
    w, b = fit_confidence(inputs, correct)
    model = ConfidenceModel(w, b, 1.0)
    conf = np.array([model.confidence(x) for x in inputs])
    return ConfidenceModel(w, b, choose_threshold(conf, correct))


# --- risk-coverage ------------------------------------------------------------------------------


def risk_coverage(
    confidence: np.ndarray,
    pred: np.ndarray,
    labels: np.ndarray,
    coverages: Sequence[float] = COVERAGES,
) -> list[tuple[float, float, float]]:
    """(coverage, pass/fail accuracy, MAE) over the most confident ``coverage`` share of the
    answers (ties broken by input order)."""
    conf = np.asarray(confidence, dtype=np.float64)
    pred, labels = np.asarray(pred), np.asarray(labels)
    order = np.argsort(-conf, kind="stable")
    rows = []
    for cov in coverages:
        k = max(1, round(cov * len(conf)))
        idx = order[:k]
        acc = float(np.mean((pred[idx] >= PASS) == (labels[idx] >= PASS)))
        rows.append((cov, acc, float(np.mean(np.abs(pred[idx] - labels[idx])))))
    return rows


def sure_figures(
    sure: np.ndarray, pred: np.ndarray, labels: np.ndarray
) -> tuple[float, float, float]:
    """(share sure, pass/fail accuracy where sure, MAE where sure)."""
    sure = np.asarray(sure, dtype=bool)
    if not sure.any():
        return 0.0, float("nan"), float("nan")
    p, y = np.asarray(pred)[sure], np.asarray(labels)[sure]
    return (
        float(sure.mean()),
        float(np.mean((p >= PASS) == (y >= PASS))),
        float(np.abs(p - y).mean()),
    )


def format_risk_coverage(
    title: str,
    ours: list[tuple[float, float, float]],
    cosine: list[tuple[float, float, float]],
    sure: tuple[float, float, float] | None = None,
) -> str:
    lines = [
        title,
        "",
        "| coverage | labdeck acc | MAE  | cosine acc | MAE  |",
        "|----------|-------------|------|------------|------|",
    ]
    for (cov, acc, mae), (_c, b_acc, b_mae) in zip(ours, cosine, strict=True):
        lines.append(
            f"| {round(cov * 100):>6} % |    {acc:4.2f}     | {mae:4.2f} |"
            f"    {b_acc:4.2f}    | {b_mae:4.2f} |"
        )
    if sure is not None:
        share, acc, mae = sure
        lines.append("")
        lines.append(
            f"sure on {share * 100:.0f} % of answers: pass/fail accuracy {acc:.2f}, MAE {mae:.2f}"
            f" (target: ≥ {TARGET_ACCURACY:.2f} and ≤ 0.60 on ≥ 50 %)"
        )
    return "\n".join(lines)


# --- fitting with writers held out ----------------------------------------------------------------
# (calibration imports this module; its fitting functions are imported here lazily)


def refit_base(template: Params, signals: Sequence[Sides], labels: np.ndarray) -> Params:
    """``template`` (a calibration.Params) with its ordinal and pass/fail models refit on the
    given training rows, and no confidence model."""
    from labdeck.grading import fitting as F

    w, c = F.fit(signals, labels, template.features)
    pw, pb = F.fit_pass(signals, labels, template.features)
    return replace(
        template,
        weights=tuple(float(v) for v in w),
        cutpoints=tuple(float(v) for v in c),
        pass_weights=pw,
        pass_bias=pb,
        confidence_weights=None,
    )


def inputs_and_correct(
    params: Params, datas: Sequence[EvalData], index: Sequence[int]
) -> tuple[np.ndarray, np.ndarray]:
    """Confidence inputs and 'pass/fail right' of ``params`` on the non-empty items ``index`` of
    each collection in ``datas`` (one per key-point condition); the best-scoring side wins."""
    from labdeck.grading import calibration as C

    pm = C._pass_model(params)
    xs: list[np.ndarray] = []
    ok: list[bool] = []
    for data in datas:
        for i in index:
            sides = data.signals[i]
            if not sides:
                continue
            best = max(sides, key=lambda s: C.assess_one(params, s).score)
            x = C.vector(best, params.features)
            z = float(np.dot(params.weights, x))
            logit = None if pm is None else float(np.dot(pm[0], x)) + pm[1]
            xs.append(confidence_inputs(z, params.cutpoints, logit, probe_input(params, best)))
            q = C.assess_one(params, best).quality
            ok.append((q >= PASS) == (int(data.labels[i]) >= PASS))
    width = len(CONFIDENCE_FEATURES)
    if "probe" in params.features:
        width += len(PROBE_CONFIDENCE_FEATURES)
    return np.array(xs).reshape(-1, width), np.array(ok, dtype=bool)


def out_of_writer_rows(
    template: Params, datas: Sequence[EvalData], writers: Sequence[str], index: Sequence[int]
) -> tuple[np.ndarray, np.ndarray]:
    """Confidence inputs and correctness for every item of ``index``, each graded by base
    models fitted on the *other* writers within ``index`` (both key-point conditions)."""
    from labdeck.grading import fitting as F
    from labdeck.grading import probefit

    xs: list[np.ndarray] = []
    ok: list[np.ndarray] = []
    for writer in sorted({writers[i] for i in index}):
        train = [i for i in index if writers[i] != writer]
        test = [i for i in index if writers[i] == writer]
        ridge, fold = probefit.fold(template.features, datas, writers, train, test)
        params = refit_base(
            probefit.with_ridge(template, ridge), *F.joint_training_set(fold, train)
        )
        x, y = inputs_and_correct(params, fold, test)
        xs.append(x)
        ok.append(y)
    return np.concatenate(xs), np.concatenate(ok)


def fit_for(
    template: Params,
    datas: Sequence[EvalData],
    writers: Sequence[str],
    index: Sequence[int] | None = None,
) -> ConfidenceModel:
    """The confidence model for base models trained on ``index`` (default: every item), fitted
    on those items' out-of-writer predictions."""
    rows = list(range(len(writers))) if index is None else list(index)
    return fit_model(*out_of_writer_rows(template, datas, writers, rows))


def with_confidence(params: Params, model: ConfidenceModel) -> Params:
    return replace(
        params,
        confidence_weights=model.weights,
        confidence_bias=model.bias,
        sure_threshold=model.threshold,
    )


def cross_validate_writers(
    template: Params, datas: Sequence[EvalData], writers: Sequence[str]
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Leave-one-writer-out CV of the whole grader, abstention included: for each writer, the
    base models are fitted on the other writers and the confidence model on *their*
    out-of-writer predictions (nested), then the held-out writer is graded. Returns, per
    collection in ``datas``, (qualities, confidences, sure)."""
    from labdeck.grading import calibration as C
    from labdeck.grading import fitting as F
    from labdeck.grading import probefit

    n = len(writers)
    out = [(np.zeros(n, dtype=int), np.zeros(n), np.zeros(n, dtype=bool)) for _ in datas]
    for writer in sorted(set(writers)):
        train = [i for i in range(n) if writers[i] != writer]
        test = [i for i in range(n) if writers[i] == writer]
        ridge, fold = probefit.fold(template.features, datas, writers, train, test)
        base = refit_base(probefit.with_ridge(template, ridge), *F.joint_training_set(fold, train))
        params = with_confidence(base, fit_for(template, datas, writers, train))
        for data, (q, conf, sure) in zip(fold, out, strict=True):
            tq, tc, ts = C.assess_many(params, [data.signals[i] for i in test])
            q[test], conf[test], sure[test] = tq, tc, ts
    return out


def cosine_assess(bparams: Params, baseline: Sequence[Sides]) -> tuple[np.ndarray, np.ndarray]:
    """Plain cosine's qualities and confidence (distance of its latent from its own pass
    cut-point); empty answers: 0, most confident."""
    from labdeck.grading import calibration as C

    q, _ = C.predict(bparams.weights, bparams.cutpoints, baseline, bparams.features)
    conf: list[float] = []
    for sides in baseline:
        if not sides:
            conf.append(np.inf)
            continue
        z = float(np.dot(bparams.weights, C.vector(sides[0], bparams.features)))
        conf.append(abs(z - float(bparams.cutpoints[PASS - 1])))
    return q, np.array(conf)


def cosine_cross_validate(
    template: Params, baseline: Sequence[Sides], labels: np.ndarray, writers: Sequence[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Plain cosine with its cut-points refit leaving each writer out: (qualities, confidence)."""
    from labdeck.grading import fitting as F

    n = len(writers)
    q, conf = np.zeros(n, dtype=int), np.zeros(n)
    for writer in sorted(set(writers)):
        train = [i for i in range(n) if writers[i] != writer]
        test = [i for i in range(n) if writers[i] == writer]
        w, c = F.fit([baseline[i] for i in train], labels[train], template.features)
        params = replace(template, weights=tuple(w), cutpoints=tuple(c))
        tq, tc = cosine_assess(params, [baseline[i] for i in test])
        q[test], conf[test] = tq, tc
    return q, conf

"""Offline fitting of the grading calibration (``calibration.py``): the sign-constrained
ordinal and pass/fail models, cross-validation by question, the tables of ``labdeck grade-eval``
and the refit that writes ``params.py``. Needs scipy; never imported while grading.

Refit (after changing the signals or the dev set) with::

    python -m labdeck.grading.fitting [--data tests/data/grading_dev.jsonl] [--write]
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from labdeck.grading.abstain import ConfidenceModel
from labdeck.grading.calibration import (
    BASELINE_FEATURES,
    FEATURES,
    N_LEVELS,
    PASS,
    SIGNS,
    Params,
    _pass_model,
    _sigmoid,
    assess_many,
    params_for,
    predict,
    vector,
)
from labdeck.grading.signals import Sides, Signals

if TYPE_CHECKING:
    from labdeck.grading.grader import Grader


def fit_ordinal(
    x: np.ndarray, y: np.ndarray, signs: Sequence[int], l2: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative-logit ordinal regression with sign-constrained weights and L2 on the
    standardised weights. Returns (weights, cutpoints) on the raw feature scale."""
    from scipy.optimize import minimize

    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=int)
    mu = x.mean(axis=0)
    sd = x.std(axis=0)
    sd[sd < 1e-9] = 1.0
    xs = (x - mu) / sd
    n, d = xs.shape
    k = N_LEVELS - 1

    def unpack(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        w = theta[:d]
        c = theta[d] + np.concatenate([[0.0], np.cumsum(theta[d + 1 :])])
        return w, c

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, c = unpack(theta)
        z = xs @ w
        # P(y <= j) = sigmoid(c_j - z), with P(y <= -1) = 0 and P(y <= 5) = 1
        cdf = _sigmoid(c[None, :] - z[:, None])  # n x k
        full = np.concatenate([np.zeros((n, 1)), cdf, np.ones((n, 1))], axis=1)
        p = full[np.arange(n), y + 1] - full[np.arange(n), y]
        p = np.maximum(p, 1e-12)
        nll = -np.log(p).sum() + l2 * float(w @ w)
        # gradient
        dens = cdf * (1.0 - cdf)  # d cdf / d c_j ; d cdf / d z = -dens
        dfull = np.concatenate([np.zeros((n, 1)), dens, np.zeros((n, 1))], axis=1)
        upper = dfull[np.arange(n), y + 1]
        lower = dfull[np.arange(n), y]
        # dp/dz = -(upper - lower); dp/dc_j = upper*[j == y] - lower*[j == y-1]
        g_z = (upper - lower) / p  # d(-log p)/dz
        grad_w = xs.T @ g_z + 2.0 * l2 * w
        g_c = np.zeros(k)
        for j in range(k):
            g_c[j] = -(upper[y == j] / p[y == j]).sum() + (lower[y == j + 1] / p[y == j + 1]).sum()
        # c_j = a + sum_{i<j} delta_i  →  d/da = sum_j g_c[j]; d/d delta_i = sum_{j>i} g_c[j]
        grad_a = g_c.sum()
        grad_delta = np.array([g_c[i + 1 :].sum() for i in range(k - 1)])
        return nll, np.concatenate([grad_w, [grad_a], grad_delta])

    bounds: list[tuple[float | None, float | None]] = []
    for s in signs:
        bounds.append((0.0, None) if s > 0 else (None, 0.0) if s < 0 else (None, None))
    bounds.append((None, None))
    bounds.extend([(0.05, None)] * (k - 1))
    theta0 = np.concatenate([np.array([0.5 * (s or 1) for s in signs]), [-2.0], [1.0] * (k - 1)])
    res = minimize(objective, theta0, jac=True, method="L-BFGS-B", bounds=bounds)
    w_std, c_std = unpack(res.x)
    weights = w_std / sd
    cutpoints = c_std + float(np.dot(w_std, mu / sd))
    return weights, cutpoints


def fit_logistic(
    x: np.ndarray, y: np.ndarray, signs: Sequence[int], l2: float = 1.0
) -> tuple[np.ndarray, float]:
    """Logistic regression for pass/fail with the same sign constraints and L2 (on the
    standardised weights) as the ordinal model. Returns (weights, bias) on the raw scale."""
    from scipy.optimize import minimize

    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    mu = x.mean(axis=0)
    sd = x.std(axis=0)
    sd[sd < 1e-9] = 1.0
    xs = (x - mu) / sd
    d = xs.shape[1]

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = theta[:d], theta[d]
        z = xs @ w + b
        # -log-likelihood, written stably: log(1 + e^z) - y z
        nll = float(np.sum(np.logaddexp(0.0, z) - y * z)) + l2 * float(w @ w)
        r = _sigmoid(z) - y
        return nll, np.concatenate([xs.T @ r + 2.0 * l2 * w, [r.sum()]])

    bounds: list[tuple[float | None, float | None]] = [
        (0.0, None) if s > 0 else (None, 0.0) if s < 0 else (None, None) for s in signs
    ]
    bounds.append((None, None))
    res = minimize(objective, np.zeros(d + 1), jac=True, method="L-BFGS-B", bounds=bounds)
    theta: np.ndarray = res.x
    w_std, b_std = theta[:d], float(theta[d])
    return w_std / sd, b_std - float(np.dot(w_std, mu / sd))


def fit_pass(
    signals: Sequence[Sides],
    labels: Sequence[int] | np.ndarray,
    features: Sequence[str] = FEATURES,
    l2: float = 1.0,
) -> tuple[tuple[float, ...], float]:
    """The pass/fail model (quality >= 3), fitted on the non-empty items."""
    keep = [i for i, s in enumerate(signals) if s]
    x = _design([s for s in signals if s], features)
    y = (np.asarray([labels[i] for i in keep]) >= PASS).astype(float)
    w, b = fit_logistic(x, y, [SIGNS[f] for f in features], l2=l2)
    return tuple(float(v) for v in w), float(b)


def _design(signals: Sequence[list[Signals]], features: Sequence[str]) -> np.ndarray:
    return np.array([vector(s[0], features) for s in signals])


def fit(
    signals: Sequence[Sides],
    labels: Sequence[int] | np.ndarray,
    features: Sequence[str] = FEATURES,
    l2: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Fit on the non-empty items (empty answers are graded 0 by rule)."""
    keep = [i for i, s in enumerate(signals) if s]
    x = _design([s for s in signals if s], features)
    y = np.asarray([labels[i] for i in keep])
    signs = [SIGNS[f] for f in features]
    return fit_ordinal(x, y, signs, l2=l2)


def fit_cover_threshold(coverages: Sequence[Sequence[float]], labels: Sequence[int]) -> float:
    """The key-point similarity above which a key point counts as covered: the value that
    makes 'share of key points covered' rank answers most like their labels."""
    best_t, best_rho = 0.5, -2.0
    for t in np.arange(0.30, 0.81, 0.01):
        frac = [float(np.mean([c >= t for c in cov])) if cov else 0.0 for cov in coverages]
        rho = spearman(np.array(frac), np.asarray(labels, dtype=float))
        if rho > best_rho + 1e-9:
            best_t, best_rho = float(t), rho
    return round(best_t, 2)


# --- metrics ----------------------------------------------------------------------------------


def _rank(a: np.ndarray) -> np.ndarray:
    order = np.argsort(a, kind="mergesort")
    ranks = np.empty(len(a), dtype=np.float64)
    sorted_a = a[order]
    i = 0
    while i < len(a):
        j = i
        while j + 1 < len(a) and sorted_a[j + 1] == sorted_a[i]:
            j += 1
        ranks[order[i : j + 1]] = 0.5 * (i + j)
        i = j + 1
    return ranks


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    if len(a) < 2:
        return float("nan")
    ra, rb = _rank(np.asarray(a, dtype=float)), _rank(np.asarray(b, dtype=float))
    sa, sb = ra.std(), rb.std()
    if sa == 0 or sb == 0:
        return float("nan")
    return float(((ra - ra.mean()) * (rb - rb.mean())).mean() / (sa * sb))


def metrics(pred: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    pred = np.asarray(pred)
    labels = np.asarray(labels)
    return {
        "n": float(len(labels)),
        "spearman": spearman(pred, labels),
        "accuracy": float(np.mean((pred >= PASS) == (labels >= PASS))) if len(labels) else math.nan,
        "mae": float(np.mean(np.abs(pred - labels))) if len(labels) else math.nan,
    }


# --- cross-validation and evaluation --------------------------------------------------------------


def folds_by_group(groups: Sequence[str], k: int = 5, seed: int = 13) -> np.ndarray:
    """Fold index per item; items of one group (question) always share a fold."""
    if len(set(groups)) < k:  # too few questions: fall back to items
        groups = [str(i) for i in range(len(groups))]
    uniq = sorted(set(groups))
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(uniq))
    fold_of = {uniq[i]: rank % k for rank, i in enumerate(order)}
    return np.array([fold_of[g] for g in groups])


def cross_validate(
    signals: Sequence[Sides],
    labels: Sequence[int] | np.ndarray,
    groups: Sequence[str],
    features: Sequence[str] = FEATURES,
    k: int = 5,
    l2: float = 1.0,
    pass_model: bool | None = None,
) -> np.ndarray:
    """Predicted qualities with ``k`` folds grouped by question; every model (the ordinal one
    and, unless ``pass_model`` is False, the pass/fail one) is refit inside each fold. By
    default the pass/fail model is used for the full signal set, not for the cosine baseline."""
    if pass_model is None:
        pass_model = tuple(features) != tuple(BASELINE_FEATURES)
    y = np.asarray(labels)
    folds = folds_by_group(groups, k)
    pred = np.zeros(len(y), dtype=int)
    for f in range(k):
        train = [i for i in range(len(y)) if folds[i] != f]
        test = [i for i in range(len(y)) if folds[i] == f]
        train_signals = [signals[i] for i in train]
        w, c = fit(train_signals, y[train], features, l2=l2)
        pm = fit_pass(train_signals, y[train], features) if pass_model else None
        q, _ = predict(w, c, [signals[i] for i in test], features, pm)
        pred[test] = q
    return pred


def cross_validate_both(
    given: EvalData,
    derived: EvalData,
    features: Sequence[str] = FEATURES,
    k: int = 5,
    l2: float = 1.0,
    seed: int = 13,
    groups: Sequence[str] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Cross-validation over both key-point conditions: in each fold the ordinal and pass/fail
    models are fitted on the training questions twice over (key points as given, and derived
    from the reference), as the shipped parameters are, then predict the test questions under
    each condition. Folds group items by question unless ``groups`` says otherwise (by author:
    pass the sources and k = their number). Returns (predictions with given key points, with
    derived key points)."""
    from labdeck.grading import probefit

    labels = np.asarray(given.labels)
    folds = folds_by_group(given.groups if groups is None else groups, k, seed)
    crossfit = [str(f) for f in folds]  # the probe is cross-fitted by the same folds
    preds = (np.zeros(len(labels), dtype=int), np.zeros(len(labels), dtype=int))
    for f in range(k):
        train = [i for i in range(len(labels)) if folds[i] != f]
        test = [i for i in range(len(labels)) if folds[i] == f]
        _ridge, datas = probefit.fold(features, (given, derived), crossfit, train, test)
        sig, lab = joint_training_set(datas, train)
        w, c = fit(sig, lab, features, l2=l2)
        pm = fit_pass(sig, lab, features)
        for data, pred in zip(datas, preds, strict=True):
            q, _ = predict(w, c, [data.signals[i] for i in test], features, pm)
            pred[test] = q
    return preds


def joint_training_set(
    datas: Sequence[EvalData], index: Sequence[int] | None = None
) -> tuple[list[Sides], np.ndarray]:
    """Signals and labels of several collections of the same items (one per key-point
    condition) stacked, restricted to ``index`` when given."""
    signals: list[Sides] = []
    labels: list[int] = []
    for data in datas:
        idx = range(len(data.labels)) if index is None else index
        signals.extend(data.signals[i] for i in idx)
        labels.extend(int(data.labels[i]) for i in idx)
    return signals, np.asarray(labels)


def strip_key_points(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The same items without their key points (the grader then derives them)."""
    return [{k: v for k, v in it.items() if k != "key_points"} for it in items]


def has_key_points(items: list[dict[str, Any]]) -> bool:
    return any(any(str(k).strip() for k in it.get("key_points") or []) for it in items)


def collect_both(grader: Grader, items: list[dict[str, Any]]) -> tuple[EvalData, EvalData]:
    """Signals with the key points as given and with key points derived from the reference
    (the same object twice when no item has key points)."""
    given = collect(grader, items)
    if not has_key_points(items):
        return given, given
    return given, collect(grader, strip_key_points(items))


@dataclass
class EvalData:
    items: list[dict[str, Any]]
    labels: np.ndarray
    groups: list[str]
    pairings: list[str]
    signals: list[Sides]
    baseline: list[Sides]  # plain cosine signals (card reference only)
    coverages: list[list[float]]


def load_jsonl(path: str) -> list[dict[str, Any]]:
    import json

    items = []
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{lineno}: not valid JSON ({exc.msg})") from exc
            if not isinstance(item, dict) or "answer" not in item or "label" not in item:
                raise ValueError(f"{path}:{lineno}: needs at least 'answer' and 'label'")
            items.append(item)
    return items


def pairing_of(item: Mapping[str, Any], result_lang: str, ref_lang: str) -> str:
    if item.get("pairing"):
        return str(item["pairing"])
    fam = {"zh-Hans": "zh", "zh-Hant": "zh"}
    return f"{fam.get(ref_lang, ref_lang)}-{fam.get(result_lang, result_lang)}"


def collect(grader: Grader, items: list[dict[str, Any]]) -> EvalData:
    from labdeck.grading import language

    graded = grader.grade_with_signals(items)
    results = [r for r, _s in graded]
    signals = [s for _r, s in graded]
    baseline: list[Sides] = []
    coverages: list[list[float]] = []
    for sides, res in zip(signals, results, strict=True):
        if not sides:
            baseline.append(None)
            coverages.append([])
            continue
        card = sides[0]
        baseline.append([Signals(card.sim, 0.0, 0.0, None, 0.0, 0.0, 0, 0)])
        coverages.append([k.similarity for k in res.key_points])
    groups = [str(it.get("question") or it.get("reference") or i) for i, it in enumerate(items)]
    pairings = [
        pairing_of(
            it, r.language, language.detect_language(language.clean(it.get("reference") or ""))
        )
        for it, r in zip(items, results, strict=True)
    ]
    labels = np.array([int(it["label"]) for it in items])
    return EvalData(items, labels, groups, pairings, signals, baseline, coverages)


Figures = dict[str, float]  # ``metrics``: n, spearman, accuracy, mae


def table_rows(
    data: EvalData, pred: np.ndarray, base: np.ndarray
) -> list[tuple[str, Figures, Figures]]:
    rows = [("overall", metrics(pred, data.labels), metrics(base, data.labels))]
    for p in sorted(set(data.pairings)):
        idx = [i for i, q in enumerate(data.pairings) if q == p]
        rows.append((p, metrics(pred[idx], data.labels[idx]), metrics(base[idx], data.labels[idx])))
    return rows


def format_table(title: str, rows: list[tuple[str, Figures, Figures]]) -> str:
    def f(v: float) -> str:
        return "  –  " if v != v else f"{v:5.2f}"

    head = (
        f"| {'subset':<9} | {'n':>3} | labdeck ρ | acc  | MAE  | cosine ρ | acc  | MAE  |\n"
        f"|{'-' * 11}|{'-' * 5}|{'-' * 11}|{'-' * 6}|{'-' * 6}|{'-' * 10}|{'-' * 6}|{'-' * 6}|"
    )
    lines = [title, "", head]
    for name, g, b in rows:
        lines.append(
            f"| {name:<9} | {int(g['n']):>3} |   {f(g['spearman'])}   | {f(g['accuracy'])}|"
            f" {f(g['mae'])}|  {f(b['spearman'])}   | {f(b['accuracy'])}| {f(b['mae'])}|"
        )
    return "\n".join(lines)


def sources_of(items: Sequence[Mapping[str, Any]]) -> list[str]:
    """Who wrote each item (its ``source`` field; "unknown" when missing)."""
    return [str(it.get("source") or "unknown") for it in items]


def evaluate(
    grader: Grader,
    items: list[dict[str, Any]],
    k: int = 5,
    holdout: list[dict[str, Any]] | None = None,
    holdout_name: str = "held-out set",
) -> str:
    """The evaluation report printed by ``labdeck grade-eval``: cross-validated by question
    and, when the items come from three or more authors (``source``), by author; then the
    shipped parameters on ``items`` and on a held-out set. Each with the key points as given
    and, when the file has any, derived from the reference instead."""
    given, derived = collect_both(grader, items)
    both = derived is not given
    shipped = grader.params
    base_params = params_for(grader.model_id, baseline=True)
    pm = _pass_model(shipped)
    conditions = [("key points as given", given)]
    if both:
        conditions.append(("key points derived from the reference", derived))
    sources = sources_of(items)
    n_authors = len(set(sources))
    cv_q = cross_validate_both(given, derived, shipped.features, k)
    cv_a = (
        cross_validate_both(given, derived, shipped.features, n_authors, groups=sources)
        if n_authors >= 3
        else None
    )
    b_cv_q = cross_validate(given.baseline, given.labels, given.groups, BASELINE_FEATURES, k)
    b_cv_a = (
        cross_validate(given.baseline, given.labels, sources, BASELINE_FEATURES, n_authors)
        if cv_a is not None
        else None
    )
    b_ship, _ = predict(
        base_params.weights, base_params.cutpoints, given.baseline, BASELINE_FEATURES
    )
    n_groups = len(set(given.groups))
    parts = [
        f"model: {grader.model_id} · items: {len(items)} · questions: {n_groups}"
        f" · authors: {n_authors}"
    ]

    def section(title: str, data: EvalData, pred: np.ndarray, base: np.ndarray) -> None:
        parts.extend(["", format_table(title, table_rows(data, pred, base))])

    for c, (name, data) in enumerate(conditions):
        label = f" — {name}" if both else ""
        section(
            f"Cross-validated by question ({k} folds; both models refit in each fold on both "
            f"key-point conditions){label}",
            data,
            cv_q[c],
            b_cv_q,
        )
        if cv_a is not None and b_cv_a is not None:
            section(
                f"Cross-validated by author (leave one author's items out, {n_authors} "
                f"folds){label}",
                data,
                cv_a[c],
                b_cv_a,
            )
        q_ship, _ = predict(shipped.weights, shipped.cutpoints, data.signals, shipped.features, pm)
        section(
            f"As shipped (parameters in labdeck/grading/params.py, fitted on this set){label}",
            data,
            q_ship,
            b_ship,
        )
    h_both = collect_both(grader, holdout) if holdout else None
    if h_both is not None:
        h_given, h_derived = h_both
        h_base, _ = predict(
            base_params.weights, base_params.cutpoints, h_given.baseline, BASELINE_FEATURES
        )
        h_conditions = [("key points as given", h_given)]
        if h_derived is not h_given:
            h_conditions.append(("key points derived from the reference", h_derived))
        for name, data in h_conditions:
            q, _ = predict(shipped.weights, shipped.cutpoints, data.signals, shipped.features, pm)
            section(
                f"{holdout_name.capitalize()} ({len(h_given.items)} items never used for fitting), "
                f"as shipped — {name}",
                data,
                q,
                h_base,
            )
    parts.extend(
        risk_coverage_sections(
            grader, given, derived, sources if n_authors >= 3 else None, h_both, holdout_name
        )
    )
    if n_authors >= 2:
        from labdeck.grading import personal

        rows = personal.simulate(shipped, given, derived, h_both[0] if h_both else None)
        parts += ["", personal.format_simulation(rows)]
    parts += [
        "",
        "ρ: Spearman between suggested quality and label · acc: pass/fail agreement (q ≥ 3) · "
        "MAE: mean |quality − label|. cosine: plain cosine(answer, reference) mapped to 0-5 by "
        "its own fitted cut-points. Empty answers get 0 under both.",
    ]
    return "\n".join(parts)


def risk_coverage_sections(
    grader: Grader,
    given: EvalData,
    derived: EvalData,
    sources: Sequence[str] | None,
    holdout: tuple[EvalData, EvalData] | None,
    holdout_name: str,
) -> list[str]:
    """Risk-coverage tables (``abstain.py``): pass/fail accuracy and MAE over the most confident
    100/80/60/50/40 % of the answers, beside plain cosine ranked by its distance from its own
    pass cut-point; and how often the grader says sure, and how right it then is. Leaving one
    writer out (nested: the confidence model is fitted on the training writers' out-of-writer
    predictions), and as shipped on the held-out set."""
    from labdeck.grading import abstain

    shipped = grader.params
    base_params = params_for(grader.model_id, baseline=True)
    parts: list[str] = []
    conditions = [("key points as given", given)]
    if derived is not given:
        conditions.append(("key points derived from the reference", derived))
    datas = [d for _n, d in conditions]
    if sources is not None:
        n_authors = len(set(sources))
        cv = abstain.cross_validate_writers(shipped, datas, sources)
        b_q, b_conf = abstain.cosine_cross_validate(
            base_params, given.baseline, given.labels, sources
        )
        b_rows = abstain.risk_coverage(b_conf, b_q, given.labels)
        for (name, data), (q, conf, sure) in zip(conditions, cv, strict=True):
            parts += [
                "",
                abstain.format_risk_coverage(
                    f"Risk-coverage, cross-validated leaving one author out ({n_authors} folds; "
                    f"confidence model nested) — {name}",
                    abstain.risk_coverage(conf, q, data.labels),
                    b_rows,
                    abstain.sure_figures(sure, q, data.labels),
                ),
            ]
    if holdout is not None and shipped.confidence_model() is not None:
        h_given, h_derived = holdout
        h_conditions = [("key points as given", h_given)]
        if h_derived is not h_given:
            h_conditions.append(("key points derived from the reference", h_derived))
        b_q, b_conf = abstain.cosine_assess(base_params, h_given.baseline)
        b_rows = abstain.risk_coverage(b_conf, b_q, h_given.labels)
        for name, data in h_conditions:
            q, conf, sure = assess_many(shipped, data.signals)
            parts += [
                "",
                abstain.format_risk_coverage(
                    f"Risk-coverage, {holdout_name}, as shipped — {name}",
                    abstain.risk_coverage(conf, q, data.labels),
                    b_rows,
                    abstain.sure_figures(sure, q, data.labels),
                ),
            ]
    return parts


# --- refit ------------------------------------------------------------------------------------


def fit_shipped(
    given: EvalData, derived: EvalData, features: Sequence[str] = FEATURES
) -> tuple[
    np.ndarray, np.ndarray, tuple[float, ...], float, tuple[tuple[float, ...], float] | None
]:
    """The shipped ordinal and pass/fail models: fitted on every item twice over, with its key
    points as given and with key points derived from the reference, so that one parameter set
    serves cards with and without key points. With the ``probe`` feature, the probe's ridge is
    fitted on every item and the calibration on its cross-fitted values (``probefit.fold``).
    Returns (weights, cutpoints, pass weights, pass bias, ridge or None)."""
    from labdeck.grading import probefit

    datas = (given, derived) if derived is not given else (given,)
    everything = range(len(given.labels))
    ridge, fold = probefit.fold(features, datas, sources_of(given.items), everything)
    signals, labels = joint_training_set(fold)
    w, c = fit(signals, labels, features)
    pw, pb = fit_pass(signals, labels, features)
    return w, c, pw, pb, ridge


def shipped_features(grader: Any) -> tuple[str, ...]:
    """The signals a grader's parameters weight: the standard set, plus ``probe`` when the
    grader reads answer and key points together (``e5probe.py``)."""
    return (*FEATURES, "probe") if getattr(grader, "reader", None) is not None else FEATURES


def fit_shipped_confidence(template: Params, given: EvalData, derived: EvalData) -> ConfidenceModel:
    """The shipped confidence model: fitted on every item's out-of-writer predictions (base
    models refit leaving each writer out, ``abstain.out_of_writer_rows``)."""
    from labdeck.grading import abstain

    datas = (given, derived) if derived is not given else (given,)
    return abstain.fit_for(template, datas, sources_of(given.items))


def refit(grader: Grader, items: list[dict[str, Any]]) -> dict[str, Any]:
    """The shipped parameters and baseline for ``grader``'s model, fitted on ``items``."""
    data, derived = collect_both(grader, items)
    return refit_collected(grader, data, derived)


def refit_collected(grader: Any, data: EvalData, derived: EvalData) -> dict[str, Any]:
    """``refit`` on signals already collected by ``collect_both(grader, ...)``."""
    from labdeck.grading import probefit

    features = shipped_features(grader)
    w, c, pw, pb, ridge = fit_shipped(data, derived, features)
    bw, bc = fit(data.baseline, data.labels, BASELINE_FEATURES)
    keep = [i for i, s in enumerate(data.signals) if s]
    cover = fit_cover_threshold([data.coverages[i] for i in keep], data.labels[keep].tolist())
    params = Params(
        grader.model_id,
        features,
        tuple(w),
        tuple(c),
        cover,
        grader.params.support_range,
        pass_weights=pw,
        pass_bias=pb,
    )
    params = probefit.with_ridge(params, ridge)
    conf = fit_shipped_confidence(params, data, derived)
    params = replace(
        params,
        confidence_weights=conf.weights,
        confidence_bias=conf.bias,
        sure_threshold=conf.threshold,
    )
    return {
        "params": params.to_dict(),
        "baseline": Params(grader.model_id, BASELINE_FEATURES, tuple(bw), tuple(bc)).to_dict(),
    }


def main(argv: Sequence[str] | None = None) -> int:  # pragma: no cover - maintenance script
    import argparse
    import json
    import os
    from pathlib import Path

    from labdeck.grading.build import build_grader

    default_data = Path(__file__).resolve().parents[3] / "tests" / "data" / "grading_dev.jsonl"
    parser = argparse.ArgumentParser(description="Refit the grading calibration.")
    parser.add_argument("--data", default=str(default_data))
    parser.add_argument("--write", action="store_true", help="rewrite params.py")
    parser.add_argument("--threads", type=int, default=1, help="compute threads (default 1)")
    parser.add_argument("--backend", action="append", choices=("use", "e5", "st"))
    args = parser.parse_args(argv)
    items = load_jsonl(args.data)
    from labdeck.grading import params as shipped

    fitted: dict[str, Any] = {  # models not refit this time keep their parameters
        m: {"params": shipped.PARAMS[m], "baseline": shipped.BASELINE[m]}
        for m in shipped.PARAMS
        if m in shipped.BASELINE
    }
    for backend in args.backend or ("use", "st"):
        grader = build_grader(backend, threads=args.threads)
        fitted[grader.model_id] = refit(grader, items)
    print(json.dumps(fitted, indent=1))
    if args.write:
        target = Path(__file__).with_name("params.py")
        target.write_text(render_params(fitted, os.path.basename(args.data), len(items)))
        print(f"wrote {target}")
    return 0


def render_params(fitted: Mapping[str, Any], data_name: str, n_items: int) -> str:
    import json

    params = json.dumps({m: v["params"] for m, v in fitted.items()}, indent=4)
    baseline = json.dumps({m: v["baseline"] for m, v in fitted.items()}, indent=4)
    return (
        '"""Fitted grading calibration (generated by `python -m labdeck.grading.fitting '
        "--write`).\n\n"
        f"Fitted on {data_name} ({n_items} items). Do not edit by hand: refit instead.\n"
        '"""\n\n'
        "from typing import Any\n\n"
        'DEFAULT_MODEL = "use-multilingual-v3"\n'
        'ST_FALLBACK = "st:all-minilm-l6-v2"\n\n'
        f"PARAMS: dict[str, dict[str, Any]] = {params}\n\n"
        f"BASELINE: dict[str, dict[str, Any]] = {baseline}\n"
    )


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

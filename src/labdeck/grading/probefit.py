"""Fitting the e5 pair probe (``e5probe.py``) and stacking it under the calibration.

The probe is a ridge regression from the pair reader's 384-wide vector to the label. Its output
is one more signal (``probe``) for the ordinal, pass/fail and confidence models. A ridge fitted
on the same answers it then scores is far too flattering (384 weights, ~1,400 rows), so the
calibration would lean on it; the signal the calibration is fitted on is therefore
*cross-fitted*: each training answer's ``probe`` comes from a ridge fitted on the other writers'
answers (``fold``), as it will be for a new writer. Answers being predicted, and the shipped
parameters, use the ridge fitted on every training answer. Used by every fit and every
cross-validation fold (``fitting.py``, ``abstain.py``, ``personal.py``), so no fold ever sees a
probe fitted on its own test writer. Parameter sets without the ``probe`` feature pass through.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

# Ridge penalty on the standardised pair vectors (each of the 384 dimensions scaled to unit
# variance over the training rows), chosen by leave-one-writer-out CV of the probe alone on the
# dev set: 30 → ρ 0.46, 100 → 0.48, 300 → 0.48, 1000 → 0.44 (key points as given).
RIDGE_ALPHA = 100.0


def uses_probe(features: Sequence[str]) -> bool:
    return "probe" in features


def _rows(datas: Sequence[Any], index: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """Pair vectors and labels of the non-empty items ``index``, stacked over ``datas``."""
    xs, ys = [], []
    for data in datas:
        for i in index:
            sides = data.signals[i]
            if sides and sides[0].pair is not None:
                xs.append(np.asarray(sides[0].pair, dtype=np.float64))
                ys.append(float(data.labels[i]))
    if not xs:
        raise ValueError("no pair vectors to fit the probe on (was the grader built with it?)")
    return np.stack(xs), np.asarray(ys)


def fit_ridge(
    x: np.ndarray, y: np.ndarray, alpha: float | None = None
) -> tuple[tuple[float, ...], float]:
    """Ridge regression on standardised columns with an unpenalised intercept, returned on the
    raw scale: (weights, bias)."""
    alpha = RIDGE_ALPHA if alpha is None else alpha
    mu, y_mu = x.mean(axis=0), float(y.mean())
    sd = x.std(axis=0)
    sd[sd < 1e-9] = 1.0
    z = (x - mu) / sd
    w = np.linalg.solve(z.T @ z + alpha * np.eye(x.shape[1]), z.T @ (y - y_mu)) / sd
    return tuple(float(v) for v in w), y_mu - float(mu @ w)


def _set(data: Any, values: dict[int, float]) -> Any:
    signals = list(data.signals)
    for i, value in values.items():
        if signals[i]:
            signals[i] = [replace(s, probe=value) for s in signals[i]]
    return replace(data, signals=signals)


def _value(ridge: tuple[tuple[float, ...], float], pair: Any) -> float:
    return float(np.dot(ridge[0], pair)) + ridge[1]


def fold(
    features: Sequence[str],
    datas: Sequence[Any],
    groups: Sequence[str],
    train: Sequence[int],
    test: Sequence[int] = (),
) -> tuple[tuple[tuple[float, ...], float] | None, list[Any]]:
    """(the ridge fitted on ``train``, ``datas`` with the probe set): ``train`` items cross-fitted
    by ``groups`` (writers; by fifths of the items when the training set has one group only),
    ``test`` items by the ridge fitted on all of ``train``. Without the ``probe`` feature: (None,
    ``datas`` unchanged)."""
    if not uses_probe(features):
        return None, list(datas)
    train, test = list(train), list(test)
    ridge = fit_ridge(*_rows(datas, train))
    cross = [groups[i] for i in train]
    if len(set(cross)) < 2:
        cross = [str(k % 5) for k in range(len(train))]
    values: list[dict[int, float]] = [{} for _ in datas]
    for group in sorted(set(cross)):
        inner = [i for i, g in zip(train, cross, strict=True) if g != group]
        held = [i for i, g in zip(train, cross, strict=True) if g == group]
        inner_ridge = fit_ridge(*_rows(datas, inner))
        for data, vals in zip(datas, values, strict=True):
            for i in held:
                if data.signals[i]:
                    vals[i] = _value(inner_ridge, data.signals[i][0].pair)
    for data, vals in zip(datas, values, strict=True):
        for i in test:
            if data.signals[i]:
                vals[i] = _value(ridge, data.signals[i][0].pair)
    return ridge, [_set(d, v) for d, v in zip(datas, values, strict=True)]


def with_ridge(template: Any, ridge: tuple[tuple[float, ...], float] | None) -> Any:
    """``template`` (calibration.Params) carrying ``ridge`` as its probe (unchanged for None)."""
    if ridge is None:
        return template
    return replace(template, probe_weights=ridge[0], probe_bias=ridge[1])

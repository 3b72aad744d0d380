"""The e5 pair probe is stacked under the calibration without leaking labels: a writer's probe
values never depend on that writer's own labels, in training (cross-fitted) or in test."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from labdeck.grading import calibration as C
from labdeck.grading import fitting as F
from labdeck.grading import probefit
from labdeck.grading.signals import Signals

WRITERS = [w for w in ("a", "b", "c", "d") for _ in range(30)]
FEATURES = (*C.FEATURES, "probe")


def _data(labels: np.ndarray, seed: int = 0) -> F.EvalData:
    rng = np.random.default_rng(seed)
    pairs = rng.normal(size=(len(labels), 16))
    pairs[:, 0] += labels  # the pair vector carries the label, as the reader's does
    pairs /= np.linalg.norm(pairs, axis=1, keepdims=True)
    signals = [
        [Signals(0.5, 0.5, 0.5, None, 0.0, 0.0, 0, 0, pair=pairs[i])] for i in range(len(labels))
    ]
    signals[3] = None  # an empty answer: no pair, no probe
    n = len(labels)
    return F.EvalData(
        [{"source": w} for w in WRITERS], labels, WRITERS, ["en-en"] * n, signals, [None] * n, []
    )


def _labels(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 6, size=len(WRITERS))


def _probes(data: F.EvalData, index: list[int]) -> list[float | None]:
    return [data.signals[i][0].probe if data.signals[i] else None for i in index]


def test_a_writers_probe_values_do_not_depend_on_their_own_labels() -> None:
    labels = _labels(1)
    train = [i for i, w in enumerate(WRITERS) if w != "d"]
    test = [i for i, w in enumerate(WRITERS) if w == "d"]
    a = [i for i, w in enumerate(WRITERS) if w == "a" and i != 3]  # 3 is empty
    data = _data(labels)
    _, (before,) = probefit.fold(FEATURES, [data], WRITERS, train, test)
    changed = labels.copy()
    changed[test] = 5 - changed[test]  # the test writer's labels: never seen
    changed[a] = 5 - changed[a]  # a training writer's labels: not seen by its own values
    _, (after,) = probefit.fold(FEATURES, [replace(data, labels=changed)], WRITERS, train, test)
    # the test writer's values come from the ridge on every training writer, a included
    assert not np.allclose(_probes(after, test), _probes(before, test))
    np.testing.assert_allclose(_probes(after, a), _probes(before, a))
    b = [i for i, w in enumerate(WRITERS) if w == "b"]
    assert not np.allclose(_probes(after, b), _probes(before, b))  # b's ridge saw a's labels


def test_test_values_come_from_the_ridge_on_all_training_items() -> None:
    labels = _labels(2)
    data = _data(labels)
    train = [i for i, w in enumerate(WRITERS) if w != "c"]
    test = [i for i, w in enumerate(WRITERS) if w == "c"]
    ridge, (fold,) = probefit.fold(FEATURES, [data], WRITERS, train, test)
    assert ridge is not None
    params = probefit.with_ridge(C.params_for("use-multilingual-v3"), ridge)
    expected = [params.probe_of(data.signals[i][0].pair) for i in test]
    np.testing.assert_allclose(_probes(fold, test), expected)
    # a test writer's labels leave their own values alone
    changed = labels.copy()
    changed[test] = 0
    _, (again,) = probefit.fold(FEATURES, [replace(data, labels=changed)], WRITERS, train, test)
    np.testing.assert_allclose(_probes(again, test), expected)
    # cross-fitted training values are not the in-sample ones (that would flatter the probe)
    in_sample = [params.probe_of(data.signals[i][0].pair) for i in train if data.signals[i]]
    assert not np.allclose([p for p in _probes(fold, train) if p is not None], in_sample)
    assert fold.signals[3] is None


def test_the_probe_reads_the_label_out_of_sample() -> None:
    labels = _labels(3)
    train = [i for i, w in enumerate(WRITERS) if w != "a"]
    test = [i for i, w in enumerate(WRITERS) if w == "a"]
    _, (fold,) = probefit.fold(FEATURES, [_data(labels)], WRITERS, train, test)
    values = [v for v in _probes(fold, test) if v is not None]
    truth = [labels[i] for i in test if fold.signals[i]]
    assert F.spearman(np.array(values), np.array(truth, dtype=float)) > 0.5


def test_parameter_sets_without_the_probe_pass_through() -> None:
    data = _data(_labels(4))
    ridge, datas = probefit.fold(C.FEATURES, [data], WRITERS, range(60), range(60, 120))
    assert ridge is None and datas[0] is data


def test_fitting_without_pair_vectors_is_a_clear_error() -> None:
    data = _data(_labels(5))
    bare = replace(data, signals=[[replace(s[0], pair=None)] if s else None for s in data.signals])
    with pytest.raises(ValueError, match="no pair vectors"):
        probefit.fold(FEATURES, [bare], WRITERS, range(60), range(60, 120))


def test_probe_weights_round_trip_through_the_shipped_form() -> None:
    ridge = ((0.5, -0.25), 1.5)
    params = probefit.with_ridge(C.params_for("use-multilingual-v3"), ridge)
    raw = params.to_dict()
    assert raw["probe_weights"] == [0.5, -0.25] and raw["probe_bias"] == 1.5
    assert params.probe_of(np.array([1.0, 2.0])) == pytest.approx(1.5)
    assert C.params_for("use-multilingual-v3").probe_of(np.array([1.0, 2.0])) is None

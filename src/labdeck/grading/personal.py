"""Personal calibration: the shipped grader recalibrated to the learner's own standard.

The learner's reviews (``review_log``: the typed answer and the quality they finally gave, after
accepting, overriding or ticking the checklist) are re-graded against their cards. A small
recalibration is fitted on top of the shipped models — the ordinal latent becomes ``a·z + b``
and the pass/fail logit ``a'·ℓ + b'`` — with a Gaussian prior centred on the shipped parameters
(a = 1, b = 0; sd 0.3 for the scales, 1.0 for the offsets), by a deterministic grid search (no
scipy at run time). Signals, weights, cut-points and the confidence model stay the shipped ones.

It is adopted only with at least ``MIN_REVIEWS`` graded reviews, and only when, fitted on the
older two thirds of them, it beats the shipped parameters on the newest third (lower MAE and no
lower pass/fail agreement against the learner's qualities); it is then refit on every review.
The record (adopted or not, with the held-back figures) lives in the database's ``meta`` table
under ``META_KEY``; ``labdeck.grading.build`` applies it when it builds the grader.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from labdeck.grading import calibration as C
from labdeck.grading.signals import Sides, Signals

if TYPE_CHECKING:
    from labdeck.grading import fitting as F
    from labdeck.grading.grader import Grader
    from labdeck.store.db import Store

META_KEY = "grading.personal"
MIN_REVIEWS = 30
HOLD_BACK = 1 / 3  # the newest third of the reviews judges the personal fit
SCALE_SD, OFFSET_SD = 0.3, 1.0  # prior around the shipped parameters (a = 1, b = 0)
_SCALES = np.round(np.arange(0.40, 2.001, 0.02), 4)
_OFFSETS = np.round(np.arange(-4.0, 4.001, 0.05), 4)


@dataclass(frozen=True)
class Recalibration:
    """``a·z + b`` for the ordinal latent and ``a'·ℓ + b'`` for the pass/fail logit."""

    scale: float = 1.0
    offset: float = 0.0
    pass_scale: float = 1.0
    pass_offset: float = 0.0

    def apply(self, params: C.Params) -> C.Params:
        """``params`` with the recalibration folded into its weights and cut-points:
        a·(w·x) + b > c  ⟺  (a·w)·x > c − b."""
        out = replace(
            params,
            weights=tuple(self.scale * w for w in params.weights),
            cutpoints=tuple(c - self.offset for c in params.cutpoints),
        )
        if params.pass_weights is not None:
            out = replace(
                out,
                pass_weights=tuple(self.pass_scale * w for w in params.pass_weights),
                pass_bias=self.pass_scale * params.pass_bias + self.pass_offset,
            )
        return out


@dataclass
class Record:
    """What is stored under ``META_KEY``."""

    model_id: str
    adopted: bool
    n_reviews: int
    recalibration: Recalibration = field(default_factory=Recalibration)
    held_back: dict[str, Any] = field(default_factory=dict)
    reason: str = ""

    def to_json(self) -> str:
        return json.dumps(
            {
                "model_id": self.model_id,
                "adopted": self.adopted,
                "n_reviews": self.n_reviews,
                "recalibration": [
                    self.recalibration.scale,
                    self.recalibration.offset,
                    self.recalibration.pass_scale,
                    self.recalibration.pass_offset,
                ],
                "held_back": self.held_back,
                "reason": self.reason,
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, raw: str) -> Record | None:
        try:
            data = json.loads(raw)
            a, b, pa, pb = (float(v) for v in data["recalibration"])
            return cls(
                model_id=str(data["model_id"]),
                adopted=bool(data["adopted"]),
                n_reviews=int(data["n_reviews"]),
                recalibration=Recalibration(a, b, pa, pb),
                held_back=dict(data.get("held_back") or {}),
                reason=str(data.get("reason") or ""),
            )
        except (ValueError, KeyError, TypeError):
            return None  # a damaged record means: shipped parameters


# --- fitting ------------------------------------------------------------------------------------


def _latents(params: C.Params, signals: Sequence[list[Signals]]) -> tuple[np.ndarray, np.ndarray]:
    """Ordinal latent z and pass logit ℓ of the best-scoring side of each non-empty item."""
    pm = C._pass_model(params)
    zs: list[float] = []
    logits: list[float] = []
    for sides in signals:
        best = max(sides, key=lambda s: C.assess_one(params, s).score)
        x = C.vector(best, params.features)
        zs.append(float(np.dot(params.weights, x)))
        logits.append(0.0 if pm is None else float(np.dot(pm[0], x)) + pm[1])
    return np.array(zs), np.array(logits)


def _prior(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return 0.5 * ((a - 1.0) / SCALE_SD) ** 2 + 0.5 * (b / OFFSET_SD) ** 2


def _grid_best(nll: np.ndarray) -> tuple[float, float]:
    a_grid, b_grid = np.meshgrid(_SCALES, _OFFSETS, indexing="ij")
    total = nll + _prior(a_grid, b_grid)
    i, j = np.unravel_index(int(np.argmin(total)), total.shape)
    return float(_SCALES[i]), float(_OFFSETS[j])


def _sig(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def fit_recalibration(
    params: C.Params, signals: Sequence[Sides], labels: Sequence[int] | np.ndarray
) -> Recalibration:
    """The MAP recalibration of ``params`` for the learner's (non-empty) answers."""
    keep = [i for i, s in enumerate(signals) if s]
    y = np.asarray([int(labels[i]) for i in keep])
    z, logit = _latents(params, [s for s in signals if s])
    cuts = np.asarray(params.cutpoints)
    lo = np.where(y == 0, -np.inf, cuts[np.clip(y - 1, 0, len(cuts) - 1)])
    hi = np.where(y == len(cuts), np.inf, cuts[np.clip(y, 0, len(cuts) - 1)])
    passed = (y >= C.PASS).astype(float)
    ord_nll = np.zeros((len(_SCALES), len(_OFFSETS)))
    pass_nll = np.zeros_like(ord_nll)
    for i, a in enumerate(_SCALES):  # one scale at a time: offsets x items
        zz = a * z[None, :] + _OFFSETS[:, None]
        # ordinal: P(y = k) = σ(c_k − z') − σ(c_{k−1} − z'), c_{−1} = −∞, c_5 = +∞
        p = _sig(hi[None, :] - zz) - _sig(lo[None, :] - zz)
        ord_nll[i] = -np.log(np.maximum(p, 1e-12)).sum(axis=1)
        ll = a * logit[None, :] + _OFFSETS[:, None]
        pass_nll[i] = (np.logaddexp(0.0, ll) - passed[None, :] * ll).sum(axis=1)
    scale, offset = _grid_best(ord_nll)
    pass_scale, pass_offset = _grid_best(pass_nll)
    return Recalibration(scale, offset, pass_scale, pass_offset)


def _figures(params: C.Params, signals: Sequence[Sides], labels: np.ndarray) -> dict[str, float]:
    from labdeck.grading.fitting import metrics

    q, _conf, _sure = C.assess_many(params, signals)
    m = metrics(q, labels)
    return {"n": int(m["n"]), "accuracy": m["accuracy"], "mae": m["mae"], "spearman": m["spearman"]}


def _beats(personal: dict[str, float], shipped: dict[str, float]) -> bool:
    return personal["mae"] < shipped["mae"] - 1e-9 and personal["accuracy"] >= shipped["accuracy"]


def decide(
    params: C.Params, signals: Sequence[Sides], labels: Sequence[int], model_id: str
) -> Record:
    """Fit on the older reviews, judge on the newest ``HOLD_BACK`` share, adopt if it beats the
    shipped parameters there (then refit on all). ``signals``/``labels`` in review order."""
    n = len(labels)
    y = np.asarray(labels, dtype=int)
    if n < MIN_REVIEWS:
        return Record(model_id, False, n, reason=f"{n} graded reviews; needs {MIN_REVIEWS}")
    cut = n - max(1, round(n * HOLD_BACK))
    early = fit_recalibration(params, signals[:cut], y[:cut])
    late_signals, late_labels = signals[cut:], y[cut:]
    shipped = _figures(params, late_signals, late_labels)
    personal = _figures(early.apply(params), late_signals, late_labels)
    held = {"n": n - cut, "shipped": shipped, "personal": personal}
    if not _beats(personal, shipped):
        return Record(
            model_id, False, n, held_back=held, reason="does not beat the shipped parameters"
        )
    return Record(model_id, True, n, fit_recalibration(params, signals, y), held, "adopted")


# --- the learner's reviews ----------------------------------------------------------------------


def learner_items(store: Store) -> list[dict[str, Any]]:
    """The learner's graded reviews, oldest first, as grader items with ``label`` = the quality
    they finally gave: answers typed and suggested by the grader, not undone, on cards that
    still have a reference or key points."""
    from sqlmodel import col, select

    from labdeck.store.models import Card, ReviewLog

    with store.session() as session:
        rows = session.exec(
            select(ReviewLog, Card)
            .join(Card, col(Card.id) == col(ReviewLog.card_id))
            .where(ReviewLog.undone == False)
            .where(col(ReviewLog.answer).is_not(None))
            .where(col(ReviewLog.suggested).is_not(None))
            .order_by(col(ReviewLog.ts), col(ReviewLog.id))
        ).all()
    items = []
    for log, card in rows:
        if not (card.answer or "").strip() and not any(k.strip() for k in card.key_points or []):
            continue
        items.append(
            {
                "id": log.id,
                "reference": card.answer,
                "key_points": list(card.key_points or []) or None,
                "notes": card.notes,
                "answer": log.answer or "",
                "label": int(log.quality),
                "suggested": log.suggested,
            }
        )
    return items


def load_record(store: Store) -> Record | None:
    from labdeck.store.models import Meta

    try:
        with store.session() as session:
            row = session.get(Meta, META_KEY)
            return Record.from_json(row.value) if row is not None else None
    except Exception:  # an unreadable database never stops grading: shipped parameters
        return None


def save_record(store: Store, record: Record) -> None:
    from labdeck.store.models import Meta

    with store.session() as session:
        row = session.get(Meta, META_KEY)
        if row is None:
            session.add(Meta(key=META_KEY, value=record.to_json()))
        else:
            row.value = record.to_json()
            session.add(row)


def personal_params(store: Store, shipped: C.Params) -> C.Params | None:
    """The learner's adopted parameters for ``shipped.model_id``, or None (use the shipped)."""
    record = load_record(store)
    if record is None or not record.adopted or record.model_id != shipped.model_id:
        return None
    return record.recalibration.apply(shipped)


def refit_mine(grader: Grader, store: Store, shipped: C.Params) -> Record:
    """Refit (or decline) the learner's personal calibration from their reviews and store the
    record. ``grader`` grades with ``shipped``."""
    items = learner_items(store)
    signals = [s for _r, s in grader.grade_with_signals(items)] if items else []
    record = decide(shipped, signals, [it["label"] for it in items], shipped.model_id)
    save_record(store, record)
    return record


def report_mine(grader: Grader, store: Store, shipped: C.Params) -> str:
    """Shipped vs personal figures on the learner's own reviews (``grade-eval --mine``)."""
    items = learner_items(store)
    record = load_record(store)
    lines = [f"your graded reviews: {len(items)} · model {shipped.model_id}"]
    if record is None:
        lines.append("personal calibration: none fitted yet (labdeck grade-eval --mine --refit)")
    else:
        state = "adopted" if record.adopted else f"not adopted ({record.reason})"
        rc = record.recalibration
        lines.append(
            f"personal calibration: {state}; fitted on {record.n_reviews} reviews; "
            f"latent ×{rc.scale:.2f} {rc.offset:+.2f}, pass logit ×{rc.pass_scale:.2f} "
            f"{rc.pass_offset:+.2f}"
        )
        if record.held_back:
            hb = record.held_back
            lines.append(
                f"held-back newest {hb['n']} reviews: shipped acc {hb['shipped']['accuracy']:.2f}"
                f" MAE {hb['shipped']['mae']:.2f} · personal acc {hb['personal']['accuracy']:.2f}"
                f" MAE {hb['personal']['mae']:.2f}"
            )
    if items:
        signals = [s for _r, s in grader.grade_with_signals(items)]
        labels = np.asarray([it["label"] for it in items])
        rows = [("shipped", _figures(shipped, signals, labels))]
        if record is not None and record.model_id == shipped.model_id:
            rows.append(
                ("personal", _figures(record.recalibration.apply(shipped), signals, labels))
            )
        lines += ["", "| parameters | n   | ρ     | acc  | MAE  |", "|---|---|---|---|---|"]
        for name, f in rows:
            rho = "  –  " if f["spearman"] != f["spearman"] else f"{f['spearman']:5.2f}"
            lines.append(
                f"| {name:<10} | {f['n']:>3} | {rho} | {f['accuracy']:.2f} | {f['mae']:.2f} |"
            )
        lines.append(
            "(all your reviews, against the quality you gave; the personal fit saw them, the "
            "held-back line above is the fair comparison)"
        )
    return "\n".join(lines)


# --- simulation on the labelled sets --------------------------------------------------------------


def simulate(
    template: C.Params,
    given: F.EvalData,
    derived: F.EvalData | None = None,
    holdout: F.EvalData | None = None,
) -> list[dict[str, Any]]:
    """For each writer: the grader fitted on the *other* writers (both key-point conditions, as
    shipped) is that writer's 'shipped' grader; the first half of their answers (file order)
    are 'their reviews' (the personal fit and its adoption decision see only these); the
    second half is scored with both. A held-out set's writer uses the shipped parameters."""
    from labdeck.grading import abstain, probefit
    from labdeck.grading import fitting as F

    datas = (given,) if derived is None or derived is given else (given, derived)
    writers = F.sources_of(given.items)
    cases: list[tuple[str, C.Params, F.EvalData, list[int]]] = []
    for writer in sorted(set(writers)):
        train = [i for i in range(len(writers)) if writers[i] != writer]
        mine = [i for i in range(len(writers)) if writers[i] == writer]
        ridge, fold = probefit.fold(template.features, datas, writers, train, mine)
        base = abstain.refit_base(
            probefit.with_ridge(template, ridge), *F.joint_training_set(fold, train)
        )
        base = replace(
            base,
            confidence_weights=template.confidence_weights,
            confidence_bias=template.confidence_bias,
            sure_threshold=template.sure_threshold,
        )
        cases.append((writer, base, fold[0], mine))
    if holdout is not None:
        for writer in sorted(set(F.sources_of(holdout.items))):
            mine = [i for i, w in enumerate(F.sources_of(holdout.items)) if w == writer]
            cases.append((f"{writer} (held-out)", template, holdout, mine))
    rows = []
    for writer, base, data, mine in cases:
        half = len(mine) // 2
        first, second = mine[:half], mine[half:]
        first_signals = [data.signals[i] for i in first]
        first_labels = [int(data.labels[i]) for i in first]
        record = decide(base, first_signals, first_labels, template.model_id)
        test_signals = [data.signals[i] for i in second]
        test_labels = data.labels[second]
        personal = record.recalibration.apply(base) if record.adopted else base
        forced = fit_recalibration(base, first_signals, first_labels).apply(base)
        rows.append(
            {
                "writer": writer,
                "adopted": record.adopted,
                "shipped": _figures(base, test_signals, test_labels),
                "personal": _figures(personal, test_signals, test_labels),
                "forced": _figures(forced, test_signals, test_labels),
            }
        )
    return rows


def format_simulation(rows: list[dict[str, Any]]) -> str:
    lines = [
        "Personal calibration, simulated: each writer's first half as their reviews, second half "
        "scored (grader fitted on the other writers)",
        "",
        "| writer | adopted | shipped acc | MAE  | personal acc | MAE  | always-personal acc | MAE  |",
        "|--------|---------|-------------|------|--------------|------|---------------------|------|",
    ]
    for r in rows:
        s, p, f = r["shipped"], r["personal"], r["forced"]
        lines.append(
            f"| {r['writer']:<6} | {'yes' if r['adopted'] else 'no':<7} |    {s['accuracy']:.2f}"
            f"     | {s['mae']:.2f} |     {p['accuracy']:.2f}     | {p['mae']:.2f} |"
            f"        {f['accuracy']:.2f}         | {f['mae']:.2f} |"
        )
    return "\n".join(lines)

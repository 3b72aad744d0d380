"""Grade a typed answer against a card's reference answer and key points.

Plain cosine between answer and reference is only the baseline: a wrong answer that reuses the
reference's words scores high. The grader combines a few signals and maps them to an SM-2
quality 0-5 with a calibrated ordinal model plus a pass/fail model that sets the 2 <-> 3
boundary (``calibration.py``, parameters in ``params.py``):

* ``sim``        cosine between the whole answer and the reference (long texts are embedded in
                 chunks whose vectors are averaged, never truncated);
* ``coverage``   mean over key points of the best cosine between the key point and a piece of
                 the answer (clause, sentence, chunk, whole answer); a key point the answer
                 contradicts counts 0;
* ``precision``  how much of what the answer says the reference supports (clauses that
                 contradict their best reference piece count 0);
* ``terms``      share of key terms (formulas such as sqrt(d_k), acronyms such as KL or ELBO,
                 content words; Chinese content bigrams) found in the answer, typo-tolerant
                 (rapidfuzz); only terms the answer's language can be expected to contain;
* ``length``     log of the answer's *supported* length relative to the reference (each clause
                 counted by how well the reference supports it; capped at 0), so short answers
                 lose and padding with unrelated text gains nothing;
* ``cross``      answer and reference in different languages (cross-lingual cosines run lower);
* ``swaps``      opposite notions or roles swapped with respect to the reference
                 (``contradict.py``: encoder/decoder, maximise/minimise, upper/lower bound …).

``negations`` (answer clauses that say what a reference clause says, negated) is reported but
not weighted: on answers by other writers it fired on right answers as often as on wrong ones.
The learner's notes act as a second reference when the answer is in the notes' language; the
better of the two is kept. An empty answer gets quality 0 without calling the model.

With the e5 pair reader (``e5probe.py``, backend ``e5``) one more signal, ``probe``: a ridge
probe on answer and key points read together by multilingual-e5-small (``probefit.py``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from labdeck.grading import calibration, keypoints, language, segment, spans, terms
from labdeck.grading.bounds import InputCap, bound_key_points, bound_text
from labdeck.grading.cache import EmbeddingCache, MemoryCache
from labdeck.grading.checklist import checklist_rows, verdict_of
from labdeck.grading.contradict import compare, names_one_role, speaks_of_the_same_roles
from labdeck.grading.e5probe import PairReader, pair_text
from labdeck.grading.embedder import Embedder
from labdeck.grading.language import to_simplified
from labdeck.grading.signals import Signals
from labdeck.textfmt import without_media

__all__ = [
    "EmbeddingCache",
    "GradeItem",
    "GradeResult",
    "Grader",
    "KeyPointResult",
    "MemoryCache",
    "Signals",
]


class GradingInputError(ValueError):
    """The item cannot be graded (nothing to grade against)."""


SPAN_MARGIN = 0.05  # a shorter matching piece within this cosine of the best is shown
# A clause "swaps roles" only against every reference piece it matches about as well as its
# best: "the encoder … compresses it into a context vector" matched the decoder's piece a
# shade better than the encoder's, read as encoder/decoder swapped, and a correct answer was
# graded 1, sure (QA).
SWAP_MARGIN = 0.05
# One span shown as covering several derived key points covers only the one it states best,
# and any other whose cosine with that very span clears the cover threshold by this much: a
# general sentence is close to every claim of the reference without stating them all.
STATE_MARGIN = 0.15
# Derived key points (cut from the reference) are not all equally central: a reference usually
# states its main idea first and ends with asides. Their coverage is a weighted mean with
# weight 1 / (1 + DERIVED_DECAY * position); given key points are weighted equally.
DERIVED_DECAY = 0.5


@dataclass(frozen=True)
class KeyPointResult:
    text: str
    similarity: float
    covered: bool
    span: str | None = None  # the part of the answer that covers (or contradicts) the point
    contradicted: bool = False  # the answer addresses the point and gets it wrong
    # the piece of the cleaned answer the similarity was measured on (``span`` is that piece
    # in the learner's own characters); not stored
    piece: str | None = field(default=None, compare=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "similarity": round(float(self.similarity), 4),
            "covered": self.covered,
            "contradicted": self.contradicted,
            "span": self.span,
        }


@dataclass(frozen=True)
class GradeResult:
    score: float
    quality: int
    key_points: list[KeyPointResult]
    language: str
    model_id: str
    reference_language: str = "empty"
    used_notes: bool = False
    signals: dict[str, float] = field(default_factory=dict)
    # How far the suggested quality can be trusted (0-1), and the verdict drawn from it: when
    # not ``sure`` the learner is asked to tick the key points instead of accepting ``quality``.
    confidence: float = 1.0
    sure: bool = True
    # Texts longer than the grading caps (``bounds.py``): what was given and what was graded.
    capped: tuple[InputCap, ...] = ()

    @property
    def covered(self) -> list[KeyPointResult]:
        return [k for k in self.key_points if k.covered]

    @property
    def missed(self) -> list[KeyPointResult]:
        return [k for k in self.key_points if not k.covered]

    def to_dict(self) -> dict[str, Any]:
        return {
            "score": round(float(self.score), 4),
            "quality": int(self.quality),
            "language": self.language,
            "reference_language": self.reference_language,
            "model_id": self.model_id,
            "used_notes": self.used_notes,
            "key_points": [k.to_dict() for k in self.key_points],
            "covered": [k.text for k in self.covered],
            "missed": [k.text for k in self.missed],
            "signals": {k: round(float(v), 4) for k, v in self.signals.items()},
            "confidence": round(float(self.confidence), 4),
            "sure": bool(self.sure),
            "checklist": checklist_rows(
                [(k.text, verdict_of(k.covered, k.contradicted), k.span) for k in self.key_points]
            ),
            **({"capped": [c.to_dict() for c in self.capped]} if self.capped else {}),
        }


@dataclass(frozen=True)
class GradeItem:
    reference: str | None
    answer: str
    key_points: Sequence[str] | None = None
    notes: str | None = None


# --- preparation ------------------------------------------------------------------------------


@dataclass
class _Side:
    """One reference (the card's answer or the learner's notes), ready for comparison."""

    text: str
    simplified: str
    language: str
    chunks: list[str]
    align: list[str]  # sentences, clauses (and key points): what answer clauses are matched to
    lexical: str  # simplified text (plus key points) for the lexical contradiction check


@dataclass
class _Prepared:
    empty: bool
    answer: str
    simplified: str
    language: str
    key_points: list[str]
    kp_from_reference: bool
    sides: list[_Side]
    chunks: list[str] = field(default_factory=list)
    segments: list[str] = field(default_factory=list)
    clauses: list[str] = field(default_factory=list)
    caps: list[InputCap] = field(default_factory=list)
    written: str = ""  # the answer as typed (spans are shown in its characters: ``spans``)
    shown_points: list[str] = field(default_factory=list)  # key points as written, for display

    def shown(self) -> list[str]:
        """The key points to show, one per ``key_points`` entry (as written where known)."""
        if len(self.shown_points) == len(self.key_points):
            return [s or k for s, k in zip(self.shown_points, self.key_points, strict=True)]
        return list(self.key_points)


def _coerce(item: GradeItem | Mapping[str, Any] | Sequence[Any]) -> GradeItem:
    if isinstance(item, GradeItem):
        return item
    if isinstance(item, Mapping):
        kps = item.get("key_points")
        return GradeItem(
            reference=item.get("reference"),
            answer=item.get("answer") or "",
            key_points=list(kps) if kps else None,
            notes=item.get("notes"),
        )
    values = list(item)
    values += [None] * (4 - len(values))
    return GradeItem(values[0], values[1] or "", values[2], values[3])


def _family(lang: str) -> str:
    return language.language_family(lang)


def _cross(answer_lang: str, ref_lang: str) -> float:
    a, r = _family(answer_lang), _family(ref_lang)
    if a == r:
        return 0.0
    if "mixed" in (a, r):
        return 0.5
    return 1.0


def _swapped_everywhere(clause: str, pieces: Sequence[str], sims: np.ndarray) -> bool:
    """Whether ``clause`` swaps roles against each reference piece within ``SWAP_MARGIN`` of
    its best match (one close piece that agrees is support enough)."""
    top = float(sims.max())
    close = [j for j in np.argsort(-sims) if sims[j] >= top - SWAP_MARGIN]
    return all(compare(clause, to_simplified(pieces[j]), substitution=False).swaps for j in close)


def _coverage_mean(similarities: Sequence[float], derived: bool) -> float:
    """Mean key-point similarity; derived key points weighted by position (DERIVED_DECAY)."""
    if not similarities:
        return 0.0
    sims = np.asarray(similarities, dtype=np.float64)
    if not derived:
        return float(sims.mean())
    weights = 1.0 / (1.0 + DERIVED_DECAY * np.arange(len(sims)))
    return float((weights * sims).sum() / weights.sum())


def _make_side(text: str, key_points: list[str] | None) -> _Side:
    simplified = to_simplified(text)
    align: list[str] = []
    for sent in segment.sentences(text):
        align.append(sent)
        align.extend(segment.clauses(sent))
    align.extend(key_points or [])
    lexical = "\n".join([simplified, *(to_simplified(k) for k in key_points or [])])
    return _Side(
        text=text,
        simplified=simplified,
        language=language.detect_language(text, simplified),
        chunks=segment.chunks(text),
        align=segment.unique(align),
        lexical=lexical,
    )


def _bounded(text: str | None, name: str, caps: list[InputCap]) -> str:
    """``language.clean(text)`` within the grading cap (``bounds.py``), noting a cut in ``caps``."""
    kept, cap = bound_text(language.clean(text), name)
    if cap is not None:
        caps.append(cap)
    return kept


def _prepare(item: GradeItem) -> _Prepared:
    """Clean and bound every text first: nothing below sees more than the caps allow.

    The reference side (reference, key points, notes) loses its image and bare-URL lines here,
    the one place every grading path passes: they stay on the card for display only."""
    caps: list[InputCap] = []
    reference = _bounded(without_media(item.reference or ""), "reference", caps)
    pairs = [(language.clean(without_media(k)), k) for k in (item.key_points or [])]
    pairs = [(cleaned, written) for cleaned, written in pairs if cleaned]
    given, kp_caps = bound_key_points([cleaned for cleaned, _ in pairs])
    caps.extend(kp_caps)
    # each point as its author wrote it (the result shows these; matching uses ``given``)
    shown = [
        language.tidy(without_media(written)) if cut == cleaned else cut
        for cut, (cleaned, written) in zip(given, pairs, strict=False)
    ]
    if not reference and not given:
        raise GradingInputError("nothing to grade against: give a reference answer or key points")
    if not reference:
        reference = " ".join(given)
    key_points = given or keypoints.derive_key_points(reference)
    if not given:  # derived from the reference: shown in the reference's own characters
        # (controls, escapes and light Markdown gone, as in the given points: ``tidy``)
        written_reference = language.tidy(without_media(item.reference or ""))
        shown = [spans.as_written(written_reference, k) or k for k in key_points]
    answer = _bounded(item.answer, "answer", caps)
    if not language.has_content(answer):  # blank, or only punctuation / symbols
        return _Prepared(
            True, "", "", "empty", key_points, not given, [], caps=caps, shown_points=shown
        )
    simplified = to_simplified(answer)
    answer_lang = language.detect_language(answer, simplified)
    sides = [_make_side(reference, key_points)]
    notes = _bounded(without_media(item.notes or ""), "notes", caps)
    if notes:
        note_lang = language.detect_language(notes, to_simplified(notes))
        fam_a, fam_n = _family(answer_lang), _family(note_lang)
        if fam_a == fam_n or "mixed" in (fam_a, fam_n):
            sides.append(_make_side(notes, None))
    clauses: list[str] = []
    for sent in segment.sentences(answer):
        clauses.extend(segment.clauses(sent))
    return _Prepared(
        empty=False,
        written=item.answer or "",
        answer=answer,
        simplified=simplified,
        language=answer_lang,
        key_points=key_points,
        kp_from_reference=not given,
        sides=sides,
        chunks=segment.chunks(answer),
        segments=segment.answer_segments(answer),
        clauses=segment.unique(clauses) or [answer],
        caps=caps,
        shown_points=shown,
    )


# --- the grader -------------------------------------------------------------------------------


def model_id_of(embedder: Embedder, reader: PairReader | None = None) -> str:
    """The grader's model id: the embedder's, joined by the pair reader's when there is one."""
    return embedder.model_id if reader is None else f"{embedder.model_id}+{reader.model_id}"


class Grader:
    """Grades answers with one embedder; reference-side embeddings go through ``cache``."""

    def __init__(
        self,
        embedder: Embedder,
        cache: EmbeddingCache | None = None,
        params: calibration.Params | None = None,
        reader: PairReader | None = None,
    ) -> None:
        self.embedder = embedder
        # With the e5 pair reader the grader is a different model (its own parameters, its own
        # id in results and personal records); reference-side vectors are still the embedder's.
        self.reader = reader
        self.model_id = model_id_of(embedder, reader)
        self.cache: EmbeddingCache = cache if cache is not None else MemoryCache()
        self.params = params or calibration.params_for(self.model_id)

    # public API --------------------------------------------------------------------------

    def grade(
        self,
        reference: str | None,
        answer: str,
        key_points: list[str] | None = None,
        notes: str | None = None,
    ) -> GradeResult:
        return self.grade_many([GradeItem(reference, answer, key_points, notes)])[0]

    def grade_many(
        self, items: Iterable[GradeItem | Mapping[str, Any] | Sequence[Any]]
    ) -> list[GradeResult]:
        prepared = [_prepare(_coerce(item)) for item in items]
        vectors = self._embed_all(prepared)
        pairs = self._read_pairs(prepared)
        return [self._evaluate(p, vectors, v)[0] for p, v in zip(prepared, pairs, strict=True)]

    def grade_with_signals(
        self, items: Iterable[GradeItem | Mapping[str, Any] | Sequence[Any]]
    ) -> list[tuple[GradeResult, list[Signals] | None]]:
        """Results plus the signals against each usable reference (None for an empty answer);
        used to fit and evaluate the calibration."""
        prepared = [_prepare(_coerce(item)) for item in items]
        vectors = self._embed_all(prepared)
        pairs = self._read_pairs(prepared)
        return [self._evaluate(p, vectors, v) for p, v in zip(prepared, pairs, strict=True)]

    # embedding ---------------------------------------------------------------------------

    def _read_pairs(self, prepared: list[_Prepared]) -> list[np.ndarray | None]:
        """The pair reader's vector per answer (answer and key points read together), or None
        for an empty answer or a grader without the reader."""
        out: list[np.ndarray | None] = [None] * len(prepared)
        if self.reader is None:
            return out
        todo = [i for i, p in enumerate(prepared) if not p.empty]
        if todo:
            texts = [pair_text(prepared[i].answer, prepared[i].key_points) for i in todo]
            for i, vec in zip(todo, self.reader.encode(texts), strict=True):
                out[i] = vec
        return out

    def _embed_all(self, prepared: list[_Prepared]) -> dict[str, np.ndarray]:
        ref_texts: list[str] = []
        ans_texts: list[str] = []
        for p in prepared:
            if p.empty:
                continue
            ref_texts.extend(p.key_points)
            for side in p.sides:
                ref_texts.extend(side.chunks)
                ref_texts.extend(side.align)
            ans_texts.extend(p.chunks)
            ans_texts.extend(p.segments)
            ans_texts.extend(p.clauses)
        vectors = self._embed_cached(segment.unique(ref_texts))
        missing = [t for t in segment.unique(ans_texts) if t not in vectors]
        if missing:
            vectors.update(zip(missing, self.embedder.encode(missing), strict=True))
        return vectors

    def _embed_cached(self, texts: list[str]) -> dict[str, np.ndarray]:
        if not texts:
            return {}
        found = dict(self.cache.get(self.embedder.model_id, texts))
        missing = [t for t in texts if t not in found]
        if missing:
            fresh = dict(zip(missing, self.embedder.encode(missing), strict=True))
            self.cache.put(self.embedder.model_id, fresh)
            found.update(fresh)
        return found

    @staticmethod
    def _whole(chunks: list[str], vectors: Mapping[str, np.ndarray]) -> np.ndarray:
        """One vector for a (possibly long) text: length-weighted mean of its chunk vectors."""
        mat = np.stack([vectors[c] for c in chunks])
        if len(chunks) == 1:
            only: np.ndarray = mat[0]
            return only
        weights = np.array([max(language.units(c), 1.0) for c in chunks], dtype=np.float32)
        mean: np.ndarray = (mat * weights[:, None]).sum(axis=0)
        norm = float(np.linalg.norm(mean))
        return mean / norm if norm > 0 else mean

    # signals -----------------------------------------------------------------------------

    def _coverage(
        self, p: _Prepared, vectors: Mapping[str, np.ndarray]
    ) -> list[tuple[float, str, bool]]:
        """Per key point: the best cosine with a piece of the answer, that piece, and whether
        the answer contradicts the point: ``contradict.compare`` of the whole answer with the
        point finds roles or opposite notions swapped, *and* the sentence of the answer that
        matches the point best swaps them on its own — a contradiction elsewhere in the answer,
        about another comparison, is not held against a point the answer states correctly; and a
        point that the card's reference itself "contradicts" by the same test (the lexicon
        misreading it) is never contradicted. A contradicted point
        counts 0 towards the coverage signal, and its piece is that sentence: the answer
        addressed the point and got it wrong."""
        seg_mat = np.stack([vectors[s] for s in p.segments])
        sentences = {
            piece for sent in segment.sentences(p.answer) for piece in segment.chunks(sent)
        }
        reference = p.sides[0].simplified
        out = []
        for kp in p.key_points:
            sims = seg_mat @ vectors[kp]
            order = np.argsort(-sims)
            kp_s = to_simplified(kp)
            span = p.segments[order[0]]
            contradicted = (
                compare(p.simplified, kp_s, substitution=False).swaps > 0
                and not compare(reference, kp_s, substitution=False).swaps
            )
            if contradicted:
                best = next((p.segments[j] for j in order if p.segments[j] in sentences), span)
                contradicted = compare(to_simplified(best), kp_s, substitution=False).swaps > 0
                span = best if contradicted else span
            if contradicted:
                right = self._stated_right(p, vectors, sentences, order, sims, kp)
                if right is not None:
                    contradicted, span = False, right
            out.append((float(sims[order[0]]), span, contradicted))
        return out

    def _stated_right(
        self,
        p: _Prepared,
        vectors: Mapping[str, np.ndarray],
        sentences: set[str],
        order: np.ndarray,
        sims: np.ndarray,
        kp: str,
    ) -> str | None:
        """A sentence of the answer that states key point ``kp`` right about the point's own
        entity, when the sentence matching it best is about the other one: "The encoder …
        compresses it into a context vector. The decoder … generates the output" — the
        encoder sentence matches "the decoder generates … conditioned on the context vector"
        best (it shares "context vector") and swaps roles against it, while the decoder
        sentence says the point. Such a sentence names the point's side of each role pair the
        point names, matches the point over the cover threshold and better than any other key
        point (it is about this point, not another claim on the same entity), and swaps
        nothing against it."""
        kp_s = to_simplified(kp)
        kp_mat = np.stack([vectors[k] for k in p.key_points])
        mine = p.key_points.index(kp)
        for j in order:
            piece = p.segments[int(j)]
            if float(sims[j]) < self.params.cover_threshold:
                return None
            if piece not in sentences or int(np.argmax(kp_mat @ vectors[piece])) != mine:
                continue
            simple = to_simplified(piece)
            if (
                speaks_of_the_same_roles(simple, kp_s)
                and not compare(simple, kp_s, substitution=False).swaps
            ):
                return piece
        return None

    def _display_spans(self, p: _Prepared, vectors: Mapping[str, np.ndarray]) -> list[str]:
        """The part of the answer to show next to each key point: the shortest piece (clause,
        sentence, chunk) that matches nearly as well as the best one, so a whole-answer match
        does not hide which sentence made the point. A point about one role (the decoder …)
        shown with a piece about the other (the encoder sentence, which shares "context vector")
        is shown with the sentence that states it about its own role, where there is one
        (``_stated_right``)."""
        seg_mat = np.stack([vectors[s] for s in p.segments])
        sentences = {
            piece for sent in segment.sentences(p.answer) for piece in segment.chunks(sent)
        }
        spans = []
        for kp in p.key_points:
            sims = seg_mat @ vectors[kp]
            top = float(sims.max())
            close = [s for s, v in zip(p.segments, sims, strict=True) if v >= top - SPAN_MARGIN]
            span = min(close, key=len)
            kp_s = to_simplified(kp)
            if names_one_role(kp_s) and not speaks_of_the_same_roles(to_simplified(span), kp_s):
                order = np.argsort(-sims)
                span = self._stated_right(p, vectors, sentences, order, sims, kp) or span
            spans.append(span)
        return spans

    def _signals(
        self,
        p: _Prepared,
        side: _Side,
        coverage: list[tuple[float, str, bool]],
        vectors: Mapping[str, np.ndarray],
    ) -> Signals:
        sim = float(self._whole(p.chunks, vectors) @ self._whole(side.chunks, vectors))
        cov = _coverage_mean([0.0 if bad else c for c, _, bad in coverage], p.kp_from_reference)
        precision, supported = self._support(p, side, vectors)
        ratio = max(supported, 0.5) / max(language.units(side.text), 1.0)
        contra = compare(p.simplified, side.lexical)
        return Signals(
            sim=sim,
            coverage=cov,
            precision=precision,
            terms=self._terms(p, side),
            length=min(0.0, math.log(ratio)),
            cross=_cross(p.language, side.language),
            swaps=contra.swaps,
            negations=contra.negations,
            derived=1.0 if p.kp_from_reference else 0.0,
            contradicted=sum(1 for _c, _s, bad in coverage if bad),
        )

    def _support(
        self, p: _Prepared, side: _Side, vectors: Mapping[str, np.ndarray]
    ) -> tuple[float, float]:
        """(precision, supported length). Precision: the length-weighted mean over the answer's
        clauses of their best similarity to a piece of the reference — how much of what the
        answer says the reference supports. Supported length: the answer's length counting
        each clause by how well it is supported, so padding an answer with unrelated text
        earns nothing. A clause that contradicts the reference piece it matches best (roles or
        opposite notions swapped) is not supported at all."""
        ref_mat = np.stack([vectors[s] for s in side.align])
        ans_mat = np.stack([vectors[c] for c in p.clauses])
        sims = ans_mat @ ref_mat.T
        best = sims.max(axis=1)
        for i, clause in enumerate(p.clauses):
            if not _swapped_everywhere(to_simplified(clause), side.align, sims[i]):
                continue
            best[i] = 0.0
        weights = np.array([max(language.units(c), 1.0) for c in p.clauses])
        lo, hi = self.params.support_range
        support = np.clip((best - lo) / (hi - lo), 0.0, 1.0)
        precision = float((best * weights).sum() / weights.sum())
        return precision, float((support * np.array([language.units(c) for c in p.clauses])).sum())

    def _terms(self, p: _Prepared, side: _Side) -> float | None:
        ans_fam, ref_fam = _family(p.language), _family(side.language)
        source = " ".join(p.key_points) if side is p.sides[0] else side.text
        source_s = to_simplified(source)
        found = terms.key_terms(source_s)
        if ref_fam == "en" and ans_fam == "zh":
            found = [t for t in found if terms.is_neutral_term(t)]
        hits = total = 0
        if found:
            norm, words = terms.prepare_answer_for_terms(p.simplified)
            hits += sum(terms.term_found(t, norm, words) for t in found)
            total += len(found)
        if ref_fam in ("zh", "mixed") and ans_fam in ("zh", "mixed"):
            grams = terms.zh_bigrams(source_s)
            if grams:
                hits += len(grams & terms.zh_bigrams(p.simplified))
                total += len(grams)
        return hits / total if total else None

    # result ------------------------------------------------------------------------------

    def _panel(
        self,
        p: _Prepared,
        coverage: list[tuple[float, str, bool]],
        shown: list[str],
        vectors: Mapping[str, np.ndarray],
    ) -> tuple[list[bool], list[str]]:
        """Which key points the panel shows as covered, and by which span, consistent with
        itself: a point is covered when its similarity reaches the threshold and the answer does
        not contradict it (never both). One span covers several derived points only where it
        states each of them: besides the point it matches best, a point sharing its span keeps
        it only when their cosine clears the threshold by ``STATE_MARGIN``; otherwise the point
        needs another piece of the answer, not already shown for a point, that reaches the
        threshold on its own."""
        threshold = self.params.cover_threshold
        covered = [sim >= threshold and not bad for sim, _span, bad in coverage]
        spans = list(shown)
        if not p.kp_from_reference:
            return covered, spans
        by_span: dict[str, list[int]] = {}
        for i, ok in enumerate(covered):
            if ok:
                by_span.setdefault(spans[i], []).append(i)
        demoted = []
        for span, points in by_span.items():
            if len(points) < 2:
                continue
            sims = {i: float(vectors[span] @ vectors[p.key_points[i]]) for i in points}
            top = max(points, key=lambda i: sims[i])
            demoted += [i for i in points if i != top and sims[i] < threshold + STATE_MARGIN]
        taken = {spans[i] for i, ok in enumerate(covered) if ok and i not in demoted}
        seg_mat = np.stack([vectors[s] for s in p.segments])
        for i in sorted(demoted, key=lambda i: -coverage[i][0]):
            sims = seg_mat @ vectors[p.key_points[i]]
            free = (
                p.segments[j]
                for j in np.argsort(-sims)
                if sims[j] >= threshold and p.segments[j] not in taken
            )
            other = next(free, None)
            covered[i] = other is not None
            if other is not None:
                spans[i] = other
                taken.add(other)
        return covered, spans

    def _evaluate(
        self, p: _Prepared, vectors: Mapping[str, np.ndarray], pair: np.ndarray | None = None
    ) -> tuple[GradeResult, list[Signals] | None]:
        if p.empty:
            return GradeResult(
                score=0.0,
                quality=0,
                key_points=[KeyPointResult(k, 0.0, False, None) for k in p.shown()],
                language="empty",
                model_id=self.model_id,
                reference_language=language.detect_language(p.key_points[0])
                if p.key_points
                else "empty",
                capped=tuple(p.caps),
            ), None
        coverage = self._coverage(p, vectors)
        all_signals = [self._signals(p, side, coverage, vectors) for side in p.sides]
        if pair is not None:  # one reading of answer and key points serves every side
            probe = self.params.probe_of(pair)
            all_signals = [replace(sig, probe=probe, pair=pair) for sig in all_signals]
        assessed = [calibration.assess_one(self.params, sig) for sig in all_signals]
        best = max(range(len(assessed)), key=lambda k: assessed[k].score)
        verdict = assessed[best]
        sig, side = all_signals[best], p.sides[best]
        shown = self._display_spans(p, vectors)
        covered, shown = self._panel(p, coverage, shown, vectors)
        pieces = [
            span if bad else display if ok else None
            for (_similarity, span, bad), display, ok in zip(coverage, shown, covered, strict=True)
        ]
        kp_results = [
            KeyPointResult(kp, similarity, ok, spans.as_written(p.written, piece), bad, piece=piece)
            for kp, (similarity, _span, bad), ok, piece in zip(
                p.shown(), coverage, covered, pieces, strict=True
            )
        ]
        return GradeResult(
            score=verdict.score,
            quality=verdict.quality,
            key_points=kp_results,
            language=p.language,
            model_id=self.model_id,
            reference_language=p.sides[0].language,
            used_notes=side is not p.sides[0],
            signals=sig.as_dict(),
            capped=tuple(p.caps),
            confidence=verdict.confidence,
            sure=verdict.sure,
        ), all_signals

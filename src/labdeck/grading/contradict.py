"""Lexical contradiction checks: swapped roles, opposite notions, and flipped negations.

Sentence embeddings are close to bags of words: "the discriminator generates samples and the
generator classifies them" embeds almost exactly like the correct statement. This module catches
such answers lexically, in English and Chinese, without a model:

1. Both texts become clauses of *concepts*: English words (lightly stemmed), Chinese domain terms
   mapped onto the same English concepts by a small glossary, other Chinese content bigrams, one
   token per side of an opposite pair (encoder/decoder, maximise/minimise, increase/decrease …)
   and a negation flag. Clauses end at punctuation and at conjunctions (and, but, 而, 但 …).
2. Within a clause that mentions one side of an opposite pair, every other concept is *bound*
   to that side (a clause naming both sides binds nothing). For properties (not for entities
   such as encoder/decoder) a negation flips the side: "not continuous" reads as "discrete".
3. A concept bound to one side in the answer and only to the other side in the reference is a
   mismatch ("queries … encoder" vs "decoder … queries"); a concept bound to both sides in
   either text says nothing. A pair with more mismatches than matches counts as one swap, and
   so does a pair of which the answer names only one side and the reference only the other
   (substitution: "the decoder" for "the encoder").
4. An answer clause that says what a reference clause says (Jaccard ≥ POL_MIN over at least
   two shared concepts) with the opposite polarity counts as one negation flip.

Chinese text must already be simplified (see ``language.to_simplified``).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from labdeck.grading import lexicon


@dataclass(frozen=True)
class Pair:
    name: str
    a: tuple[str, ...]
    b: tuple[str, ...]
    role: bool = False  # entities: a negation does not turn one side into the other


def _pairs(raw: list[dict[str, Any]]) -> list[Pair]:
    by_name: dict[str, Pair] = {}
    out: list[Pair] = []
    for entry in raw:
        if "a_sides_of" in entry:
            base = by_name[entry["a_sides_of"]]
            a = base.a + base.b
        else:
            a = tuple(entry["a"])
        pair = Pair(entry["name"], a, tuple(entry["b"]), bool(entry.get("role", False)))
        by_name[pair.name] = pair
        out.append(pair)
    return out


_LEX = lexicon.load("contradiction")
PAIRS: list[Pair] = _pairs(_LEX["pair"])
# Chinese domain terms → English concepts (stemmed like English words). Longest match wins.
GLOSSARY: dict[str, str] = dict(_LEX["glossary_zh"])
_NEG_EN = frozenset(_LEX["negation"]["en"])
# These negate what follows them, not the clause so far: they open a new, negated clause.
_NEG_OPEN_EN = frozenset(_LEX["negation"]["open_en"])
_NEG_OPEN_ZH = tuple(_LEX["negation"]["open_zh"])
_NEG_FALSE_EN = tuple(_LEX["negation"]["false_en"])
_NEG_ZH = tuple(_LEX["negation"]["zh"])
# Words that contain a negation character but do not negate the clause.
_NEG_FALSE_ZH = tuple(_LEX["negation"]["false_zh"])
_CONJ_EN = frozenset(_LEX["conjunction"]["en"])
_CONJ_ZH = tuple(_LEX["conjunction"]["zh"])
_STOP_EN = lexicon.stop_words("concepts", "en")
_ZH_STOP = lexicon.stop_words("concepts", "zh")
# Chinese comparatives "比 X 强": the adjective becomes the matching side term.
_ZH_COMPARATIVE = re.compile(
    r"(?<!对)比(?!较|如|例|率|特)([^，。；,.;！？]{1,15}?)([强弱快慢大小多少高低])"
)
_ZH_COMPARATIVE_TERM: dict[str, str] = dict(_LEX["comparative_zh"])
_BOUNDARY = "\u241e"


@lru_cache(maxsize=1)
def _tables() -> tuple[re.Pattern[str], re.Pattern[str], dict[str, str]]:
    """Regexes that turn lexicon entries into placeholder tokens (longest first)."""
    sides: dict[str, list[str]] = defaultdict(list)
    for i, pair in enumerate(PAIRS):
        for s, terms in enumerate((pair.a, pair.b)):
            for term in terms:
                tok = f"\ue000s{i}_{s}\ue001"
                if tok not in sides[term]:
                    sides[term].append(tok)
    repl: dict[str, str] = {t: " " + " ".join(toks) + " " for t, toks in sides.items()}
    for term in _NEG_FALSE_ZH:
        repl.setdefault(term, " ")
    for term, concept in GLOSSARY.items():
        repl.setdefault(term, f" {concept} ")
    for term in _NEG_OPEN_ZH:
        repl.setdefault(term, " \ue000negopen\ue001 ")
    for term in _NEG_ZH:
        repl.setdefault(term, " \ue000neg\ue001 ")
    for term in _CONJ_ZH:
        repl.setdefault(term, f" {_BOUNDARY} ")
    en = sorted((t for t in repl if t.isascii()), key=len, reverse=True)
    zh = sorted((t for t in repl if not t.isascii()), key=len, reverse=True)
    en_re = re.compile(
        r"(?<![a-z0-9_-])(?:" + "|".join(re.escape(t) for t in en) + r")(?![a-z0-9_-])"
    )
    zh_re = re.compile("|".join(re.escape(t) for t in zh))
    return en_re, zh_re, repl


_TOKEN_RE = re.compile(
    r"\ue000[^\ue001]+\ue001|"
    + _BOUNDARY
    + r"|[a-z0-9][a-z0-9_'\-^()]*|[\u3400-\u9fff\uf900-\ufaff]+|[,;:.!?()\[\]，；：。！？、（）\n]"
)


def stem(word: str) -> str:
    w = word.lower().strip("'-_")
    for suffix in ("ations", "ation", "ings", "ing", "ers", "er", "ies", "es", "ed", "s", "ly"):
        if w.endswith(suffix) and len(w) - len(suffix) >= (3 if suffix == "s" else 4):
            w = w[: -len(suffix)] + ("y" if suffix == "ies" else "")
            break
    return w[:7]


@dataclass(frozen=True)
class Clause:
    sides: tuple[tuple[int, int, int], ...]  # (pair, side as written, position)
    negated: bool
    words: tuple[tuple[str, int], ...]  # (concept, position)

    def side_tokens(self, effective: bool) -> list[tuple[str, int]]:
        out = []
        for i, s, pos in self.sides:
            if effective and self.negated and not PAIRS[i].role:
                s = 1 - s
            out.append((f"\ue000{i}:{s}\ue001", pos))
        return out


def _linked() -> dict[int, set[int]]:
    """Pairs that share terms (increase/decrease and changes/constant) are not evidence for
    each other; a pair is never evidence for itself."""
    terms = [set(p.a) | set(p.b) for p in PAIRS]
    return {
        i: {j for j in range(len(PAIRS)) if i == j or terms[i] & terms[j]}
        for i in range(len(PAIRS))
    }


_LINKED = _linked()
# Generic direction words say little about what they describe when used as evidence for
# another pair ("more deterministic"), so their tokens are not used as concepts.
_NOT_EVIDENCE = {
    i for i, p in enumerate(PAIRS) if p.name in ("increase/decrease", "changes/constant")
}
POL_MIN = 0.5  # Jaccard of concepts an answer clause must share with a reference clause


def _normalise(text: str) -> str:
    low = text.lower().replace("\ue000", " ").replace("\ue001", " ").replace(_BOUNDARY, " ")
    for phrase in _NEG_FALSE_EN:
        low = low.replace(phrase, " ")
    low = low.replace("can't", "can not").replace("cannot", "can not").replace("n't", " not")
    low = _ZH_COMPARATIVE.sub(lambda m: m.group(1) + _ZH_COMPARATIVE_TERM[m.group(2)], low)
    en_re, zh_re, repl = _tables()
    low = en_re.sub(lambda m: repl[m.group(0)], low)
    return zh_re.sub(lambda m: repl[m.group(0)], low)


@lru_cache(maxsize=4096)
def clauses(text: str) -> tuple[Clause, ...]:
    """Clauses of ``text`` (simplified script) with their sides, polarity and concepts."""
    out: list[Clause] = []
    sides: list[tuple[int, int, int]] = []
    words: list[tuple[str, int]] = []
    neg = False

    def flush() -> None:
        nonlocal sides, words, neg
        if sides or words:
            out.append(Clause(tuple(sides), neg, tuple(words)))
        sides, words, neg = [], [], False

    def open_negated() -> None:
        nonlocal neg
        flush()
        neg = True

    for pos, tok in enumerate(_TOKEN_RE.findall(_normalise(text))):
        if tok.startswith("\ue000"):
            body = tok[1:-1]
            if body == "neg":
                neg = True
            elif body == "negopen":
                open_negated()
            else:
                i, s = body[1:].split("_")
                sides.append((int(i), int(s), pos))
        elif tok == _BOUNDARY or (len(tok) == 1 and not tok.isalnum()):
            flush()
        elif tok[0].isascii():
            if tok in _CONJ_EN:
                flush()
            elif tok in _NEG_EN:
                neg = True
            elif tok in _NEG_OPEN_EN:
                open_negated()
            elif tok not in _STOP_EN and len(tok) >= 2:
                words.append((stem(tok), pos))
        else:
            if len(tok) == 1 and tok not in _ZH_STOP:
                words.append((tok, pos))
            for k in range(len(tok) - 1):
                gram = tok[k : k + 2]
                if gram[0] not in _ZH_STOP and gram[1] not in _ZH_STOP:
                    words.append((gram, pos))
    flush()
    return tuple(out)


def _bindings(cls: tuple[Clause, ...]) -> dict[tuple[int, str], set[int]]:
    """(pair, concept) → the sides of that pair the concept is bound to."""
    bound: dict[tuple[int, str], set[int]] = defaultdict(set)
    for clause in cls:
        eff: dict[int, list[tuple[int, int]]] = {}  # pair → (effective side, position)
        for i, s, p in clause.sides:
            eff.setdefault(i, []).append((1 - s if clause.negated and not PAIRS[i].role else s, p))
        attrs = list(clause.words) + clause.side_tokens(effective=True)
        for i, occurrences in eff.items():
            present = {s for s, _p in occurrences}
            for concept, _pos in attrs:
                if concept.startswith("\ue000"):
                    j = int(concept[1:].split(":")[0])
                    if j in _LINKED[i] or j in _NOT_EVIDENCE:
                        continue
                if len(present) == 1:  # a clause naming both sides binds nothing
                    bound[(i, concept)].add(next(iter(present)))
    return bound


def _polarity_flips(answer: tuple[Clause, ...], reference: tuple[Clause, ...]) -> int:
    """Answer clauses that say what a reference clause says, with the opposite polarity."""
    ref_sets = [_polarity_view(c) for c in reference]
    flips = 0
    for clause in answer:
        words, negated = _polarity_view(clause)
        if len(words) < 2:
            continue
        scored = [
            (len(words & r) / len(words | r) if len(words & r) >= 2 else 0.0, neg)
            for r, neg in ref_sets
            if r
        ]
        best = max((o for o, _n in scored), default=0.0)
        if best < POL_MIN:
            continue
        close = [neg for o, neg in scored if o >= best - 0.1]
        if all(neg != negated for neg in close):
            flips += 1
    return flips


def _polarity_view(clause: Clause) -> tuple[set[str], bool]:
    """Concepts and polarity of a clause; a negation absorbed by a property ("not
    continuous" = "discrete") no longer counts as a negation."""
    absorbed = clause.negated and any(not PAIRS[i].role for i, _s, _p in clause.sides)
    words = {w for w, _p in clause.words} | {t for t, _p in clause.side_tokens(True)}
    return words, clause.negated and not absorbed


def _sides_named(cls: tuple[Clause, ...]) -> dict[int, set[int]]:
    """Pair → the sides a text names (after negation: "not continuous" names discrete)."""
    named: dict[int, set[int]] = defaultdict(set)
    for clause in cls:
        for i, s, _p in clause.sides:
            named[i].add(1 - s if clause.negated and not PAIRS[i].role else s)
    return named


def _substituted(answer: tuple[Clause, ...], reference: tuple[Clause, ...]) -> set[int]:
    """Pairs of which the answer names only one side and the reference only the other ("the
    decoder" for "the encoder", "past tokens" for "future tokens"): the answer put the
    opposite notion in its place, whatever it binds to. Generic direction words are left out:
    "larger" and "lower" describe too many different things for one text to oppose another."""
    a_named, r_named = _sides_named(answer), _sides_named(reference)
    return {
        i
        for i, sides in a_named.items()
        if i not in _NOT_EVIDENCE
        and len(sides) == 1
        and len(r_named.get(i, ())) == 1
        and sides != r_named[i]
    }


def _roles_named(text: str) -> dict[int, set[int]]:
    return {i: sides for i, sides in _sides_named(clauses(text)).items() if PAIRS[i].role}


def names_one_role(claim: str) -> bool:
    """Whether ``claim`` names one side (not both) of each role pair it names, and names one:
    it is a claim about one entity (the encoder, the generator …). Simplified script."""
    named = _roles_named(claim)
    return bool(named) and all(len(sides) == 1 for sides in named.values())


def speaks_of_the_same_roles(piece: str, claim: str) -> bool:
    """Whether ``piece`` names, of every role pair (encoder/decoder, generator/discriminator …)
    the claim names one side of, that same side and only it: it is about the claim's entity.
    Both texts in simplified script."""
    if not names_one_role(claim):
        return False
    claim_named = _roles_named(claim)
    piece_named = _sides_named(clauses(piece))
    return all(piece_named.get(i) == sides for i, sides in claim_named.items())


@dataclass(frozen=True)
class Contradiction:
    swaps: int  # opposite pairs whose bindings disagree with the reference
    strength: int  # sum over pairs of (mismatches - matches) where positive
    negations: int  # answer clauses whose polarity disagrees with a matching reference clause
    reasons: tuple[str, ...]


def compare(answer: str, reference: str, substitution: bool = True) -> Contradiction:
    """Contradictions between an answer and a reference (both in simplified script).
    ``substitution`` also counts a pair of which the two texts name opposite sides only; it
    suits whole texts, not a fragment compared with a claim made elsewhere in the text."""
    a_cls, r_cls = clauses(answer), clauses(reference)
    a_bound, r_bound = _bindings(a_cls), _bindings(r_cls)
    per_pair: dict[int, list[int]] = defaultdict(lambda: [0, 0])  # [mismatches, matches]
    for key, sides in a_bound.items():
        ref = r_bound.get(key)
        if ref and len(sides) == 1 and len(ref) == 1:  # bound to both sides says nothing
            per_pair[key[0]][0 if not sides & ref else 1] += 1
    swapped = {i for i, (mis, match) in per_pair.items() if mis > match}
    if substitution:
        swapped |= _substituted(a_cls, r_cls)
    reasons = [PAIRS[i].name for i in sorted(swapped)]
    strength = sum(mis - match for mis, match in per_pair.values() if mis > match)
    swaps = len(reasons)
    negations = _polarity_flips(a_cls, r_cls)
    if negations:
        reasons.append("negation")
    return Contradiction(swaps, strength, negations, tuple(reasons))

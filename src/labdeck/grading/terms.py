"""Key terms for grading: formulas, acronyms and content words an answer should contain,
their typo-tolerant presence in an answer, and Chinese content bigrams.

Chinese is compared in simplified script: callers pass text through
``language.to_simplified`` first."""

from __future__ import annotations

import re

from labdeck.grading import lexicon
from labdeck.grading.language import LATIN_WORD_RE

_STOP = lexicon.stop_words("key_terms", "en")
_FORMULA_RE = re.compile(
    r"[A-Za-z√]*\([^()\s]{1,24}\)(?:\^?[-+]?\d+)?"  # sqrt(d_k), q(z|x), min(1, ...)
    r"|[A-Za-z]+_[A-Za-z0-9{}]+(?:\([^()]*\))?"  # d_k, W_O, eps_theta(x_t, t)
    r"|[A-Za-z]+\^[A-Za-z0-9{}]+"  # x^2
)
_ACRONYM_RE = re.compile(r"\b[A-Za-z]*[A-Z][A-Za-z0-9]*[A-Z][A-Za-z0-9]*\b|\b[A-Z][A-Z0-9]+\b")


def key_terms(text: str) -> list[str]:
    """Terms worth checking literally: formulas (sqrt(d_k), W_O), acronyms and mixed-case
    names (KL, ELBO, LoRA, PixelCNN) and, for English text, content words of 5+ letters."""
    found: dict[str, None] = {}
    for m in _FORMULA_RE.finditer(text):
        term = m.group(0).strip()
        if len(term) >= 2:
            found.setdefault(term, None)
    for m in _ACRONYM_RE.finditer(text):
        found.setdefault(m.group(0), None)
    for word in LATIN_WORD_RE.findall(text):
        low = word.lower()
        if len(low) >= 5 and low not in _STOP and word not in found:
            found.setdefault(low, None)
    return list(found)


def is_neutral_term(term: str) -> bool:
    """A term a Chinese answer can be expected to write in Latin script (formula/acronym)."""
    return bool(_FORMULA_RE.fullmatch(term) or _ACRONYM_RE.fullmatch(term))


def _norm_term(text: str) -> str:
    out = text.lower().replace("√", "sqrt").replace("·", "*")
    return re.sub(r"[\s\\{}]+", "", out)


def term_found(term: str, answer_norm: str, answer_words: set[str]) -> bool:
    """Typo-tolerant presence of ``term`` in the answer (normalised with ``_norm_term``)."""
    from rapidfuzz import fuzz

    t = _norm_term(term)
    if not t:
        return False
    if len(t) <= 4 or t.isupper():
        # Short terms and acronyms must appear as a token (KL is not in "skill").
        if t in answer_words:
            return True
        return bool(re.search(rf"(?<![a-z]){re.escape(t)}(?![a-z])", answer_norm))
    if t in answer_norm:
        return True
    threshold = 80 if len(t) >= 8 else 86
    return fuzz.partial_ratio(t, answer_norm) >= threshold


def prepare_answer_for_terms(answer: str) -> tuple[str, set[str]]:
    norm = _norm_term(answer)
    words = {w.lower() for w in re.findall(r"[A-Za-z0-9_]+", answer)}
    return norm, words


_ZH_STOP_CHARS = lexicon.stop_words("key_terms", "zh")


def zh_bigrams(text: str) -> set[str]:
    """Content bigrams of the CJK runs of ``text`` (simplified script), for lexical overlap."""
    out: set[str] = set()
    for run in re.findall(r"[\u3400-\u9fff\uf900-\ufaff]+", text):
        for i in range(len(run) - 1):
            gram = run[i : i + 2]
            if gram[0] not in _ZH_STOP_CHARS and gram[1] not in _ZH_STOP_CHARS:
                out.add(gram)
    return out

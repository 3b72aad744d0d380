"""Key points derived from a card's reference when the card has none (pure Python)."""

from __future__ import annotations

import re

from labdeck.grading.language import clean, has_content, units
from labdeck.grading.segment import BULLET_RE, sentences
from labdeck.grading.terms import key_terms, zh_bigrams
from labdeck.textfmt import CJK_RE

# A card without key points gets claims cut from its reference: sentences and bullet items,
# long sentences split further at ';', at a ':' that introduces a clause or a list, and at
# coordinating clauses; fragments too short to stand alone are merged into a neighbour;
# headings, citations, display formulas and filler are dropped; at most MAX_DERIVED remain.

MAX_DERIVED = 7
MIN_CLAIM_UNITS = 5.0  # a claim shorter than this (in units) is merged into a neighbour
LONG_CLAIM_UNITS = 18.0  # a sentence longer than this is split at clause boundaries

_CITATION_RE = re.compile(
    r"\s*[(（\[][^()（）\[\]]*?(?:\bet\s+al\b|(?<![\d.])(?:1[89]|20)\d{2}(?![\d.]))[^()（）\[\]]*[)）\]]"
    r"|\s*\[\d{1,3}(?:\s*[,–-]\s*\d{1,3})*\]"
)
_LATEX_CMD_RE = re.compile(r"\\[A-Za-z]+|[\\{}^_]")
_EN_COORD_RE = re.compile(
    r"(?<=[,;])\s+(?=(?:and|but|while|whereas|so|yet|thus|hence|therefore)\s)"
    r"|\s+(?=[-–—]{1,2}\s)",
    re.IGNORECASE,
)
_ZH_COORD_RE = re.compile(
    r"(?<=[，,])\s*(?=(?:从而|因此|所以|但是?|而且?|并且?|同时|这样|否则|然后))"
)
_COLON_RE = re.compile(r"(?<=[:：])\s+|(?<=：)")
_FILLER_RE = re.compile(
    r"^(?:in (?:short|summary|brief|general|practice)|to (?:summari[sz]e|sum up)|overall|"
    r"basically|essentially|for example|e\.g\.?|note(?: that)?|see (?:also|above|below)|"
    r"good question|this is (?:a|an) (?:good|important|common|key) question|"
    r"总之|总结|简而言之|例如|比如)[\s,，:：.。!！]*$",
    re.IGNORECASE,
)


def _plain_units(text: str) -> float:
    """Length of ``text`` without LaTeX commands (so a display formula counts as ~nothing)."""
    return units(_LATEX_CMD_RE.sub(" ", text))


def _content_size(text: str) -> int:
    """Content terms of a claim: key terms (formulas, acronyms, content words) and CJK bigrams."""
    return len(key_terms(text)) + len(zh_bigrams(text))


def _is_heading(line: str, next_is_item: bool) -> bool:
    """A heading or a list intro that says nothing by itself ("Effects:", "By purpose")."""
    if not line:
        return True
    ends_colon = line.endswith((":", "："))
    ends_sentence = line.endswith((".", "!", "?", "。", "！", "？", ";", "；"))
    size = _plain_units(line)
    if ends_colon and size < 5:
        return True
    return not ends_sentence and not ends_colon and size <= 4 and next_is_item


def _split_claim(sentence: str) -> list[str]:
    """Split a long sentence at ':' (before a clause or a list) and at coordinating clauses."""
    if _plain_units(sentence) <= LONG_CLAIM_UNITS:
        return [sentence]
    parts = [sentence]
    for pattern in (_COLON_RE, _EN_COORD_RE, _ZH_COORD_RE):
        nxt: list[str] = []
        for part in parts:
            if _plain_units(part) <= LONG_CLAIM_UNITS:
                nxt.append(part)
                continue
            nxt.extend(x.strip() for x in pattern.split(part) if x.strip())
        parts = nxt
    return parts


def _merge_fragments(parts: list[str], min_units: float) -> list[str]:
    """Merge claims shorter than ``min_units`` into their shorter neighbour."""
    parts = list(parts)
    while len(parts) > 1:
        sizes = [_plain_units(p) for p in parts]
        small = [i for i, s in enumerate(sizes) if s < min_units]
        if not small:
            break
        i = min(small, key=lambda k: sizes[k])
        if i == 0:
            j = 1
        elif i == len(parts) - 1:
            j = i - 1
        else:
            j = i - 1 if sizes[i - 1] <= sizes[i + 1] else i + 1
        a, b = (j, i) if j < i else (i, j)
        parts[a : b + 1] = [_join_claims(parts[a], parts[b])]
    return parts


def _join_claims(a: str, b: str) -> str:
    """Two claims as one text; a claim that ends without punctuation (a list item) gets a
    semicolon, so the joined text does not run two statements into one clause."""
    a, b = a.rstrip(), b.lstrip()
    if a.endswith(("。", "，", "；", "：", "！", "？")):
        return f"{a}{b}"
    if CJK_RE.search(a[-1:]):
        return f"{a}；{b}"
    if a.endswith((".", ";", ":", ",", "!", "?")):
        return f"{a} {b}"
    return f"{a}; {b}"


def _tidy_claim(claim: str) -> str:
    """Drop a dangling connective mark (',', ';', ':', a dash) at the end of a claim."""
    return re.sub(r"[\s,，;；:：、\-–—]+$", "", claim.strip())


def derive_key_points(reference: str, max_points: int = MAX_DERIVED) -> list[str]:
    """Key points for a card that has none: self-contained claims cut from the reference
    (see the comment above ``MAX_DERIVED``)."""
    text = clean(reference)
    if not text:
        return []
    text = _CITATION_RE.sub("", text)
    lines = [ln.strip() for ln in text.split("\n")]
    lines = [ln for ln in lines if ln and has_content(ln)]
    claims: list[str] = []
    for k, line in enumerate(lines):
        is_item = bool(BULLET_RE.match(line))
        next_is_item = k + 1 < len(lines) and bool(BULLET_RE.match(lines[k + 1]))
        body = BULLET_RE.sub("", line, count=1).strip() if is_item else line
        if not is_item and _is_heading(body, next_is_item or k + 1 < len(lines)):
            continue
        if _plain_units(body) < 2:  # a display formula or a stray symbol
            continue
        for sent in sentences(body):
            for claim in _split_claim(sent):
                if not _FILLER_RE.match(claim.strip(" ,，;；:：")):
                    claims.append(claim)
    claims = [c for c in claims if _content_size(c) >= 1] or claims
    claims = _merge_fragments(claims, MIN_CLAIM_UNITS)
    claims = [_tidy_claim(c) for c in claims]
    # Too many claims: merge the adjacent pair that is shortest together until few enough.
    while len(claims) > max_points:
        sizes = [_plain_units(c) for c in claims]
        i = min(range(len(claims) - 1), key=lambda k: sizes[k] + sizes[k + 1])
        claims[i : i + 2] = [_join_claims(claims[i], claims[i + 1])]
    return claims or sentences(text)[:max_points] or [text]

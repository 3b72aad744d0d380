"""Text handling for grading: language detection, segmentation, key terms, contradiction cues.

Pure Python (no models). Chinese is compared in simplified script: callers pass text through
``embedder.to_simplified`` before the lexical checks here.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from labdeck.grading import lexicon
from labdeck.ingest.common import clean_text

CJK_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
LATIN_WORD_RE = re.compile(r"[A-Za-z][A-Za-z'\-]*[A-Za-z]|[A-Za-z]")
_MARKDOWN_RE = re.compile(r"(\*\*|__|`+|^#+\s*|^>\s*)", re.MULTILINE)
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|\x1b\[[0-9;?]*[A-Za-z]")

# Chunking: a text longer than this (in "units": Latin words, or CJK characters / 1.5) is
# embedded as several chunks whose vectors are averaged, never silently truncated.
CHUNK_UNITS = 80


def clean(text: str | None) -> str:
    """Normalise width (NFKC), strip control sequences and light Markdown, squeeze spaces."""
    if not text:
        return ""
    out = unicodedata.normalize("NFKC", clean_text(text))  # bidi / zero-width / escapes
    out = _CONTROL_RE.sub(" ", out)
    out = _MARKDOWN_RE.sub("", out)
    out = out.replace("$", "")
    out = re.sub(r"[ \t\u3000]+", " ", out)
    out = re.sub(r"\s*\n\s*", "\n", out)
    return out.strip()


def units(text: str) -> float:
    """A language-neutral length: Latin words plus CJK characters / 1.5 (≈ words)."""
    return len(LATIN_WORD_RE.findall(text)) + len(CJK_RE.findall(text)) / 1.5


def detect_language(text: str | None, simplified: str | None = None) -> str:
    """'en', 'zh-Hans', 'zh-Hant', 'mixed' or 'empty'.

    ``simplified`` is the text after OpenCC t2s (if the caller has it): characters that change
    under t2s mark traditional script.
    """
    if text is None or not has_content(text):
        return "empty"
    cjk = CJK_RE.findall(text)
    if not cjk:
        return "en"
    words = [w for w in LATIN_WORD_RE.findall(text) if len(w) >= 2]
    zh_units = len(cjk) / 1.5
    en_units = float(len(words))
    if en_units >= 3 and en_units / (en_units + zh_units) >= 0.2:
        return "mixed"
    if simplified is not None and simplified != text:
        changed = sum(1 for a, b in zip(text, simplified, strict=False) if a != b)
        if changed >= 2 or changed / len(cjk) >= 0.1:
            return "zh-Hant"
    return "zh-Hans"


def language_family(lang: str) -> str:
    return "zh" if lang.startswith("zh") else lang


# --- segmentation -------------------------------------------------------------------------

_BULLET_RE = re.compile(r"^\s*(?:[-*+•·]|\d{1,2}[.)、]|[（(]?\d{1,2}[)）])\s+", re.MULTILINE)
# Sentence ends: CJK terminators anywhere; a Latin full stop when followed by white space (so
# not inside 0.9); short abbreviations (e.g., i.e.) are protected first.
_SENT_SPLIT_RE = re.compile(r"(?<=[。！？；;!?])\s*|(?<=\.)\s+|\n+")
_CLAUSE_SPLIT_RE = re.compile(r"(?<=[,，、:：])\s*|\s+-{1,2}\s+|\s*—\s*")
_ABBREV_RE = re.compile(r"\b(e\.g|i\.e|etc|vs|cf|approx)\.", re.IGNORECASE)


def sentences(text: str) -> list[str]:
    """Sentences and bullet items of ``text`` (already cleaned)."""
    if not text:
        return []
    protected = _ABBREV_RE.sub(lambda m: m.group(0).replace(".", "\u2024"), text)
    protected = _BULLET_RE.sub("\n", protected)
    parts = [p.strip().replace("\u2024", ".") for p in _SENT_SPLIT_RE.split(protected)]
    return _merge_short([p for p in parts if p and has_content(p)], min_units=2.5)


def clauses(sentence: str) -> list[str]:
    parts = [p.strip(" ,，、:：") for p in _CLAUSE_SPLIT_RE.split(sentence)]
    return _merge_short([p for p in parts if p and has_content(p)], min_units=3.0)


def has_content(text: str) -> bool:
    """Whether ``text`` has anything to grade: a letter, a digit or a CJK character."""
    return bool(CJK_RE.search(text) or re.search(r"[^\W_]", text))


def _merge_short(parts: list[str], min_units: float) -> list[str]:
    """Glue fragments that are too short to stand alone onto their neighbour."""
    out: list[str] = []
    for part in parts:
        if out and (units(part) < min_units or units(out[-1]) < min_units):
            joiner = "" if CJK_RE.search(out[-1][-1:]) else " "
            out[-1] = f"{out[-1]}{joiner}{part}"
        else:
            out.append(part)
    return out


def chunks(text: str, max_units: float = CHUNK_UNITS) -> list[str]:
    """Split a long text into consecutive pieces of at most ~max_units (sentence boundaries)."""
    if units(text) <= max_units:
        return [text] if text else []
    out: list[str] = []
    current: list[str] = []
    size = 0.0
    for sent in sentences(text) or [text]:
        for piece in _split_long(sent, max_units):
            u = units(piece)
            if current and size + u > max_units:
                out.append(" ".join(current))
                current, size = [], 0.0
            current.append(piece)
            size += u
    if current:
        out.append(" ".join(current))
    return out


def _split_long(sentence: str, max_units: float) -> list[str]:
    if units(sentence) <= max_units:
        return [sentence]
    tokens = re.findall(r"[\u3400-\u9fff\uf900-\ufaff]|[^\s\u3400-\u9fff\uf900-\ufaff]+", sentence)
    out: list[str] = []
    current: list[str] = []
    for tok in tokens:
        current.append(tok)
        if units(" ".join(current)) >= max_units:
            out.append(_join_tokens(current))
            current = []
    if current:
        out.append(_join_tokens(current))
    return out


def _join_tokens(tokens: list[str]) -> str:
    text = ""
    for tok in tokens:
        if text and not (CJK_RE.match(tok) and CJK_RE.match(text[-1])):
            text += " "
        text += tok
    return text


def answer_segments(text: str, max_extra: int = 64) -> list[str]:
    """Pieces of an answer that a key point may match, deduplicated, in order: every chunk and
    every sentence (so nothing is left out, however long the answer), then clauses up to
    ``max_extra`` more."""
    seen: dict[str, None] = {}
    for chunk in chunks(text):
        seen.setdefault(chunk, None)
    sents = sentences(text)
    for sent in sents:
        for piece in chunks(sent):
            seen.setdefault(piece, None)
    budget = max_extra
    for sent in sents:
        for clause in clauses(sent):
            if budget > 0 and clause not in seen:
                seen[clause] = None
                budget -= 1
    return list(seen)


# Derived key points ---------------------------------------------------------------------------
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
        is_item = bool(_BULLET_RE.match(line))
        next_is_item = k + 1 < len(lines) and bool(_BULLET_RE.match(lines[k + 1]))
        body = _BULLET_RE.sub("", line, count=1).strip() if is_item else line
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


# --- key terms ------------------------------------------------------------------------------

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


def unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(i for i in items if i))


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

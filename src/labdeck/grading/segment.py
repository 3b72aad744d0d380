"""Segmentation for grading: sentences and bullet items, clauses, and chunks of a long text
(each at most ``CHUNK_UNITS``), and the pieces of an answer a key point may match."""

from __future__ import annotations

import re
from collections.abc import Iterable

from labdeck.grading.language import has_content, units
from labdeck.textfmt import CJK_RE

# Chunking: a text longer than this (in "units": Latin words, or CJK characters / 1.5) is
# embedded as several chunks whose vectors are averaged, never silently truncated.
CHUNK_UNITS = 80

BULLET_RE = re.compile(r"^\s*(?:[-*+•·]|\d{1,2}[.)、]|[（(]?\d{1,2}[)）])\s+", re.MULTILINE)
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
    protected = BULLET_RE.sub("\n", protected)
    parts = [p.strip().replace("\u2024", ".") for p in _SENT_SPLIT_RE.split(protected)]
    return _merge_short([p for p in parts if p and has_content(p)], min_units=2.5)


def clauses(sentence: str) -> list[str]:
    parts = [p.strip(" ,，、:：") for p in _CLAUSE_SPLIT_RE.split(sentence)]
    return _merge_short([p for p in parts if p and has_content(p)], min_units=3.0)


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


def unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(i for i in items if i))

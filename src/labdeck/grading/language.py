"""Language handling for grading: cleaning, length in units, language detection and the
simplified script that every lexical check compares in (pure Python apart from OpenCC)."""

from __future__ import annotations

import re
import unicodedata

from labdeck.textfmt import CJK_RE, clean_text, to_simplified

LATIN_WORD_RE = re.compile(r"[A-Za-z][A-Za-z'\-]*[A-Za-z]|[A-Za-z]")
_MARKDOWN_RE = re.compile(r"(\*\*|__|`+|^#+\s*|^>\s*)", re.MULTILINE)
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|\x1b\[[0-9;?]*[A-Za-z]")


def clean(text: str | None) -> str:
    """Normalise width (NFKC), strip control sequences and light Markdown, squeeze spaces."""
    if not text:
        return ""
    return tidy(unicodedata.normalize("NFKC", clean_text(text)))  # bidi / zero-width / escapes


def tidy(text: str | None) -> str:
    """``clean`` without the width folding: a text as its author wrote it ("（非负、和为1）"
    keeps its full-width brackets), for display; controls and light Markdown still go."""
    if not text:
        return ""
    out = clean_text(text)
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


def has_content(text: str) -> bool:
    """Whether ``text`` has anything to grade: a letter, a digit or a CJK character."""
    return bool(CJK_RE.search(text) or re.search(r"[^\W_]", text))


__all__ = ["to_simplified"]  # lives in labdeck.textfmt (below grading); re-exported here

"""Text helpers for display: cleaning untrusted text of terminal controls, readable math,
language detection (no UI imports, nothing from labdeck: every layer may use it)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache
from typing import Any

# ANSI CSI/OSC/other escape sequences (never across a newline, so line numbers survive), then
# the characters below.
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI
    r"|\x1b\][^\x07\x1b\n]*(?:\x07|\x1b\\)"  # OSC
    r"|\x1b[PX^_][^\x1b\n]*\x1b\\"  # DCS/SOS/PM/APC
    r"|\x1b[@-Z\\-_]"  # two-byte escapes
    r"|\x9b[0-?]*[ -/]*[@-~]"  # 8-bit CSI
)
# Characters that are dropped from all imported and typed text:
# * C0 and C1 controls (all but \n and \t) and DEL;
# * bidi embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069) and the marks
#   U+200E/U+200F/U+061C: they reorder what the terminal shows ("Trojan Source");
# * zero-width characters U+200B-U+200D, U+2060-U+2064 and U+FEFF (inside text): invisible,
#   they make two equal-looking strings differ. U+200D (ZWJ) and U+200C (ZWNJ) are dropped too:
#   an emoji ZWJ sequence then shows as its separate emoji and a few scripts (Persian, Indic)
#   shape slightly differently, which is acceptable for this app's English/Chinese study text;
# * lone surrogates (U+D800-U+DFFF), which cannot be encoded to UTF-8 at all.
_CONTROLS = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064"
    "\u2066-\u2069\ufeff\ud800-\udfff]"
)


def clean_text(text: str) -> str:
    """Strip terminal control sequences, control characters, bidi and zero-width controls
    and lone surrogates. Newline and tab survive; CR and CRLF become newlines; the Unicode
    line/paragraph separators become spaces (editors do not count them as lines)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\u2028", " ").replace("\u2029", " ")
    return _CONTROLS.sub("", _ESCAPES.sub("", text))


def one_line(text: str) -> str:
    """``clean_text`` for a message line: newlines and tabs become spaces."""
    return re.sub(r"[ \t\n]+", " ", clean_text(text)).strip()


# $$…$$, $…$, and LaTeX's own \[…\] and \(…\) (as notes pasted from a chat assistant write
# them): read as Markdown, "\[" was an escaped bracket and the formula showed as "[ … ]".
_MATH = re.compile(
    r"\$\$(.+?)\$\$|\$(?!\s)([^$\n]+?)(?<!\s)\$|\\\[(.+?)\\\]|\\\(([^\n]+?)\\\)", re.S
)


def _formula(match: re.Match[str]) -> str:
    return next(group for group in match.groups() if group is not None)


# Macros pylatexenc does not know that only format or size what follows: dropped. Any other
# unknown macro shows as its name ("\\softmax(x)" -> "softmax(x)"); pylatexenc's own default
# drops it, and the formula loses a word.
_FORMATTING = frozenset(
    {
        *("operatorname", "boldsymbol", "bm", "mathop", "limits", "nolimits"),
        *("displaystyle", "textstyle", "scriptstyle", "left", "right", "middle"),
        *("big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl", "Bigr"),
        *("biggl", "biggr", "Biggl", "Biggr"),
    }
)
_RENAMED = {"bmod": "mod ", "pmod": "mod "}  # an operator: the space after it stays
_FRAC_VARIANTS = re.compile(r"\\[dt]frac(?![A-Za-z])")


def _unknown_macro(node: Any) -> str:
    name = str(node.macroname)
    return "" if name in _FORMATTING else _RENAMED.get(name, name)


@lru_cache(maxsize=1)
def _converter() -> Any:  # pylatexenc ships no type information
    from pylatexenc.latex2text import (
        LatexNodes2Text,
        MacroTextSpec,
        get_default_latex_context_db,
    )

    context = get_default_latex_context_db().filter_context()  # a copy, not the shared one
    context.set_unknown_macro_spec(MacroTextSpec("", simplify_repl=_unknown_macro))
    return LatexNodes2Text(latex_context=context, math_mode="text", strict_latex_spaces=False)


# Operators pylatexenc prints glued to their argument ("\log p" -> "logp").
_OPERATORS = re.compile(
    r"\\(log|ln|exp|max|min|argmax|argmin|arg|sin|cos|tan|tanh|det|sup|inf|lim|Pr)\b\s*"
)
_DOUBLE_BAR = re.compile(r"\\\|")


_ENDS_IN_NAME = re.compile(r"(\\[A-Za-z]+\s*|[A-Za-z])$")
_DELIMITER_MACROS = ("\\left", "\\big", "\\Big", "\\bigg", "\\Bigg")


def _spelled_operator(expr: str, match: re.Match[str]) -> str:
    """An operator macro as its name, spaced as a reader writes it: apart from a symbol or
    letter before it ("v^⊤ tanh", never "v^⊤tanh": the space after ``\\top`` ends that macro
    and pylatexenc drops it) and from an argument after it ("log p"), but against its bracket
    ("tanh(x)", never "tanh (x)")."""
    before = "{} " if _ENDS_IN_NAME.search(expr[: match.start()]) else ""
    rest = expr[match.end() :]
    spaced = match.group(0)[-1].isspace() or rest[:1].isalnum()
    spaced = spaced or (rest.startswith("\\") and not rest.startswith(_DELIMITER_MACROS))
    return before + match.group(1) + (" " if spaced else "")


def latex_to_text(expr: str) -> str:
    expr = _OPERATORS.sub(lambda m: _spelled_operator(expr, m), expr)
    expr = _DOUBLE_BAR.sub("‖", expr)
    expr = _FRAC_VARIANTS.sub(r"\\frac", expr)
    try:
        return str(_converter().latex_to_text(expr)).strip()
    except Exception:  # malformed LaTeX stays as written
        return expr


def readable_math(text: str) -> str:
    """Replace ``$…$`` / ``$$…$$`` / ``\\(…\\)`` / ``\\[…\\]`` spans by a Unicode rendering,
    shown as inline code."""

    def repl(match: re.Match[str]) -> str:
        return f"`{latex_to_text(_formula(match))}`"

    return _MATH.sub(repl, text)


@lru_cache(maxsize=4096)
def math_as_text(text: str) -> str:
    """``$…$`` spans replaced by their Unicode rendering, without markers (for one-line cells)."""
    return _MATH.sub(lambda m: latex_to_text(_formula(m)), text)


def has_cjk(text: str) -> bool:
    return bool(re.search(r"[\u3400-\u9fff]", text))


_CJK = r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"
_T2S: Callable[[str], str] | None = None


def __getattr__(name: str) -> re.Pattern[str]:
    """``CJK_RE``, compiled on first use: its ranges take ~1-3 ms to compile, and every
    process that shows text imports this module (the TUI before its first frame) while only
    the grader, the importers and the searches use the pattern."""
    if name == "CJK_RE":
        pattern = globals()["CJK_RE"] = re.compile(_CJK)
        return pattern
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def to_simplified(text: str) -> str:
    """Convert traditional Chinese characters to simplified (no-op for text without CJK).
    OpenCC's ``t2s`` loads on first use."""
    global _T2S
    if not re.search(_CJK, text):
        return text
    if _T2S is None:
        import opencc

        _T2S = opencc.OpenCC("t2s").convert
    return _T2S(text)


# Lines that only point at media: a Markdown image, an HTML <img>, the importers' own
# "[image: alt — path]" reference, a bare URL or a link whose text is its URL, optionally
# under a short label ("Image source:", "图片来源：").
_MEDIA_PIECES = re.compile(
    r"!\[[^\]]*\]\([^)]*\)"  # ![alt](src "title")
    r"|<img\b[^>]*>"  # <img src=...>
    r"|\[image: [^\]]*\]"  # images_as_references (labdeck.ingest.common)
    r"|\[(?:https?://|www\.)[^\]]*\]\([^)]*\)"  # [https://…](https://…)
    r"|<(?:https?://|www\.)[^>\s]*>"  # <https://…>
    r"|(?:https?://|www\.)\S+",  # a bare URL
    re.I,
)
_EDGE_PUNCT = " \t.,;。，；、!！()（）[]*_`'\"-"


def is_media_line(line: str) -> bool:
    """True for a line that only shows or points at media (an image, an ``<img>``, a URL,
    optionally after a short label such as "Image source:"): kept for display, never graded."""
    stripped = line.strip().lstrip(">-*+ \t")
    if not _MEDIA_PIECES.search(stripped):
        return False
    rest = _MEDIA_PIECES.sub(" ", stripped).strip(_EDGE_PUNCT)
    return not rest or (rest[-1] in ":：" and len(rest) <= 25 and "\n" not in rest)


_INLINE_IMAGES = re.compile(r"!\[[^\]]*\]\([^)]*\)|<img\b[^>]*>|\[image: [^\]]*\]", re.I)


def without_media(text: str) -> str:
    """``text`` as the grader should see it: media lines (``is_media_line``) dropped and images
    inside other lines removed; everything else unchanged."""
    if not _MEDIA_PIECES.search(text):
        return text
    kept = (line for line in text.split("\n") if not is_media_line(line))
    return "\n".join(_INLINE_IMAGES.sub("", line) for line in kept)


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """``"1 chapter"``, ``"2 chapters"``: a count with its noun in the right number."""
    return f"{n} {noun if n == 1 else (plural or noun + 's')}"


def cell_width(text: str) -> int:
    """Terminal cells ``text`` takes: wide (CJK) characters two, combining marks none."""
    return sum(_cells(ch) for ch in text)


def _cells(ch: str) -> int:
    if unicodedata.combining(ch):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in "WF" else 1


def padded(text: str, width: int) -> str:
    """``text`` cut to ``width`` terminal cells (an ellipsis where cut) and padded to exactly
    that many: columns of a plain-text table stay aligned whatever the script."""
    used = cell_width(text)
    if used > width:
        kept, used = [], 0
        for ch in text:
            if used + _cells(ch) > width - 1:
                break
            kept.append(ch)
            used += _cells(ch)
        text = "".join(kept) + "…"
        used += 1
    return text + " " * (width - used)

"""Text helpers for display: readable math, language detection (no UI imports)."""

from __future__ import annotations

import re
from functools import lru_cache

_MATH = re.compile(r"\$\$(.+?)\$\$|\$(?!\s)([^$\n]+?)(?<!\s)\$", re.S)


@lru_cache(maxsize=1)
def _converter():
    from pylatexenc.latex2text import LatexNodes2Text

    return LatexNodes2Text(math_mode="text", strict_latex_spaces=False)


# Operators pylatexenc prints glued to their argument ("\log p" -> "logp").
_OPERATORS = re.compile(
    r"\\(log|ln|exp|max|min|argmax|argmin|arg|sin|cos|tan|tanh|det|sup|inf|lim|Pr)\b\s*"
)
_DOUBLE_BAR = re.compile(r"\\\|")


def _after_letter(expr: str, index: int) -> bool:
    return index > 0 and expr[index - 1].isalpha()


def latex_to_text(expr: str) -> str:
    # A space before the name too: "\\beta\\log x" must not become the unknown "\\betalog".
    expr = _OPERATORS.sub(
        lambda m: ("{} " if _after_letter(expr, m.start()) else "") + m.group(1) + " ", expr
    )
    expr = _DOUBLE_BAR.sub("‖", expr)
    try:
        return _converter().latex_to_text(expr).strip()
    except Exception:  # malformed LaTeX stays as written
        return expr


def readable_math(text: str) -> str:
    """Replace ``$…$`` / ``$$…$$`` spans by a Unicode rendering, shown as inline code."""

    def repl(match: re.Match[str]) -> str:
        expr = match.group(1) or match.group(2)
        return f"`{latex_to_text(expr)}`"

    return _MATH.sub(repl, text)


def has_cjk(text: str) -> bool:
    return bool(re.search(r"[\u3400-\u9fff]", text))

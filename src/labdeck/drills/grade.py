"""Exact grading of drill cards; the result maps straight to an SM-2 quality.

The rules are documented in content/README.md ("How a drill is graded"). Only rapidfuzz and
opencc (both light) are used: no embedding model is loaded for drills.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

TYPO_RATIO = 85.0  # rapidfuzz ratio for "right, with a typo"
TYPO_RATIO_LONG = 75.0  # the same for answers of LONG_ANSWER characters or more
LONG_ANSWER = 12

_GREEK = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "varepsilon": "ε",
    "zeta": "ζ", "eta": "η", "theta": "θ", "lambda": "λ", "mu": "μ", "nu": "ν", "xi": "ξ",
    "pi": "π", "rho": "ρ", "sigma": "σ", "tau": "τ", "phi": "φ", "varphi": "φ", "chi": "χ",
    "psi": "ψ", "omega": "ω", "Sigma": "σ", "Delta": "δ", "Omega": "ω", "Theta": "θ",
    "Phi": "φ", "Pi": "π", "Gamma": "γ", "Lambda": "λ",
}  # fmt: skip
_COMMANDS = {
    "cdot": "*", "times": "*", "le": "≤", "leq": "≤", "ge": "≥", "geq": "≥", "neq": "≠",
    "approx": "≈", "to": "→", "rightarrow": "→", "infty": "∞", "sum": "σ", "log": "log",
    "exp": "exp", "top": "T", "intercal": "T", "left": "", "right": "", "mathrm": "",
    "text": "", "operatorname": "", "mathbf": "", "boldsymbol": "", "bar": "", "hat": "",
    "tilde": "",
}  # fmt: skip
_SYMBOLS = {
    "×": "*", "·": "*", "⋅": "*", "<=": "≤", ">=": "≥", "!=": "≠", "->": "→", "∑": "σ",
    "−": "-", "–": "-", "—": "-",
}  # fmt: skip
# A LaTeX command only when no letter follows: \to must not eat the start of \top.
_COMMAND_RE = re.compile(
    r"\\(" + "|".join(sorted(_COMMANDS, key=len, reverse=True)) + r")(?![A-Za-z])"
)
_SQRT = re.compile(r"(?:\\sqrt|sqrt|√)\s*(?:\{([^{}]*)\}|\(([^()]*)\)|([\w.]+))")
_FRAC = re.compile(r"\\frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}")
_POWER = re.compile(r"\^\{([^{}]*)\}")
_SUB = re.compile(r"_\{([^{}]*)\}")
_SUPERSCRIPT = re.compile("[⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ᵀⁿⁱ]+")
_DROP = re.compile(r"[\s${}_`\"'“”‘’「」『』]+")
_TRAIL = re.compile(r"[.,;:!?。，、；：！？]+$")
_GREEK_RE = re.compile(r"\\(" + "|".join(sorted(_GREEK, key=len, reverse=True)) + r")(?![A-Za-z])")
# A formula shown as "∑_i α_t,i h_i" is typed with the names spelled out ("sum_i alpha_t,i"):
# every Greek letter ends as its name and a bare "sum" as the sum sign, on both sides of the
# comparison, so a letter and its name are one answer ("alpha_bar" is still "alphabar"). QA:
# "sum_i α_t,i h_i" was only a typo of "\\sum_i \\alpha_{t,i} h_i".
_BARE_SUM = re.compile(r"(?<![A-Za-z])sum(?![A-Za-z])")
_GREEK_NAMES = str.maketrans(
    {letter: name for name, letter in reversed(list(_GREEK.items())) if name.islower()}
)


def normalise(text: str) -> str:
    """The comparable form of a short answer or formula (see the module doc)."""
    from labdeck.textfmt import to_simplified

    out = _SUPERSCRIPT.sub(lambda m: "^" + unicodedata.normalize("NFKC", m.group(0)), text or "")
    out = unicodedata.normalize("NFKC", out).strip()
    out = to_simplified(out)
    out = _GREEK_RE.sub(lambda m: _GREEK[m.group(1)], out)
    out = _COMMAND_RE.sub(lambda m: _COMMANDS[m.group(1)], out)
    out = _BARE_SUM.sub("σ", out)
    for source, target in _SYMBOLS.items():
        out = out.replace(source, target)
    for _ in range(3):  # nested \frac{\sqrt{..}}{..}
        out = _SQRT.sub(lambda m: "√" + _group(m.group(1) or m.group(2) or m.group(3)), out)
        out = _FRAC.sub(lambda m: f"{_group(m.group(1))}/{_group(m.group(2))}", out)
    out = _POWER.sub(lambda m: "^" + m.group(1), out)
    out = _SUB.sub(lambda m: "_" + m.group(1), out)
    out = out.casefold()
    out = _DROP.sub("", out)
    out = _TRAIL.sub("", out)
    # √(x) with a single token inside is the same as √x
    out = re.sub(r"√\(([\w.]+)\)", r"√\1", out)
    return out.translate(_GREEK_NAMES)


@dataclass(frozen=True)
class DrillResult:
    quality: int
    correct: bool
    verdict: str  # exact | typo | wrong | blank | unread (typed, but not a verdict / letters)
    expected: str  # the answer to show
    detail: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "quality": self.quality,
            "correct": self.correct,
            "verdict": self.verdict,
            "expected": self.expected,
            **self.detail,
        }


def grade_cloze(typed: str, answers: Sequence[str]) -> DrillResult:
    """``answers``: the deletion's text first, then its alternatives."""
    expected = answers[0] if answers else ""
    given = normalise(typed)
    if not given:
        return DrillResult(0, False, "blank", expected)
    targets = [t for t in (normalise(a) for a in answers) if t]
    if given in targets:
        return DrillResult(5, True, "exact", expected)
    from rapidfuzz import fuzz

    best = 0.0
    for target in targets:
        # A typo is a slip in the letters: digits, symbols and operators must all be there.
        if _skeleton(given) != _skeleton(target) or len(target) <= 2:
            continue
        threshold = TYPO_RATIO_LONG if len(target) >= LONG_ANSWER else TYPO_RATIO
        ratio = fuzz.ratio(given, target)
        if ratio >= threshold:
            best = max(best, ratio)
    if best:
        return DrillResult(4, True, "typo", expected, {"similarity": round(best, 1)})
    return DrillResult(1, False, "wrong", expected)


def _group(expr: str) -> str:
    """``expr`` as one operand: bare when it is a single token, else in parentheses."""
    expr = expr.strip()
    return expr if re.fullmatch(r"[\w.√^]+", expr) else f"({expr})"


def _skeleton(text: str) -> str:
    """What is left of a normalised answer without its letters (digits, symbols, operators)."""
    return "".join(ch for ch in text if not ch.isalpha())


def grade_choice(chosen: Iterable[str], correct: Sequence[str]) -> DrillResult:
    picked = set(chosen)
    expected = "; ".join(correct)
    if not picked:
        return DrillResult(0, False, "blank", expected)
    if picked == set(correct):
        return DrillResult(5, True, "exact", expected)
    return DrillResult(1, False, "wrong", expected, {"chosen": sorted(picked)})


def grade_truefalse(said: bool | None, verdict: bool) -> DrillResult:
    expected = "true" if verdict else "false"
    if said is None:
        return DrillResult(0, False, "blank", expected)
    if said == verdict:
        return DrillResult(5, True, "exact", expected)
    return DrillResult(1, False, "wrong", expected)


_TRUE = {
    "t", "true", "yes", "y", "right", "correct", "对", "是", "正确", "對", "正確", "真", "1", "✓",
    "√", "✔",
}  # fmt: skip
_FALSE = {
    "f", "false", "no", "n", "wrong", "incorrect", "错", "否", "错误", "錯", "錯誤", "不对",
    "不對", "不是", "不正确", "不正確", "假", "0", "✗", "✘", "×",
}  # fmt: skip
# A verdict word followed by a reason: "False, it is the other way round", "对。因为…".
# Only with punctuation after the word: "no idea" is no verdict.
_LEADING_VERDICT = re.compile(r"^\s*([^\s,.;:!?，。、；：！？—–-]+)\s*[,.;:!?，。、；：！？—–-]")


def parse_truefalse(text: str) -> bool | None:
    """A typed verdict: t/true/yes/right/对/是 … or f/false/no/wrong/错/否 … (the whole reply,
    or its first word when punctuation follows it); None when neither."""
    for word in (text, *_leading_word(text)):
        folded = normalise(word)
        if folded in _TRUE:
            return True
        if folded in _FALSE:
            return False
    return None


def _leading_word(text: str) -> list[str]:
    match = _LEADING_VERDICT.match(text or "")
    return [match.group(1)] if match else []


_LATIN_RUN = re.compile(r"[a-z]+")


def parse_choice(text: str, options: Sequence[str]) -> list[str]:
    """Typed option letters → the options they name, in option order: "a c", "AC", "a,c",
    "(B)", "b)", "选B", "a and c", "B. softmax" (a letter standing alone beside other words);
    failing letters, a reply that is one option's text (normalised) names that option."""
    valid = {chr(ord("a") + i) for i in range(len(options))}
    runs = _LATIN_RUN.findall(unicodedata.normalize("NFKC", text or "").casefold())
    if runs and all(set(run) <= valid for run in runs):
        letters = {c for run in runs for c in run}
    else:  # words besides the letters: only the letters that stand alone
        letters = {run for run in runs if len(run) == 1 and run in valid}
    if letters:
        return [opt for i, opt in enumerate(options) if chr(ord("a") + i) in letters]
    typed = normalise(text)
    return [opt for opt in options if typed and normalise(opt) == typed]


def unread(expected: str, form: str) -> DrillResult:
    """Something was typed, but not in a form the drill reads (``form``: what it expects):
    graded wrong, and said so, never taken for a blank answer."""
    return DrillResult(1, False, "unread", expected, {"expected_form": form})

"""Markdown and math in the shipped deck render as readable text (what the review screen shows)."""

from __future__ import annotations

import re

import pytest
from markdown_it import MarkdownIt

from labdeck.config import content_dir
from labdeck.ingest.deckfile import find_deck_dirs, parse_deck_dir
from labdeck.textfmt import latex_to_text, readable_math

CARDS = [
    card
    for deck in (parse_deck_dir(p) for p in find_deck_dirs(content_dir()))
    for chapter in deck.chapters
    for card in chapter.cards
]


@pytest.mark.parametrize(
    ("latex", "expected"),
    [
        (r"\mathrm{softmax}(QK^\top/\sqrt{d_k})V", "softmax(QK^⊤/√(d_k))V"),
        (r"\alpha \cdot \beta", "α·β"),
        (r"D_{KL}(q \| p)", "D_KL(q ‖ p)"),
        # a macro pylatexenc does not know keeps its name (its default dropped it: "(x)")
        (r"\softmax(x)", "softmax(x)"),
        (r"\operatorname{softmax}(x)", "softmax(x)"),
        (r"\left(\frac{a}{b}\right)", "(a/b)"),
        (r"\dfrac{a}{b} \bmod n", "a/b mod n"),
    ],
)
def test_latex_becomes_unicode(latex: str, expected: str) -> None:
    assert latex_to_text(latex).replace(" ", "") == expected.replace(" ", "")


def test_inline_and_display_math_are_replaced_and_prices_are_not() -> None:
    text = r"Loss $\mathcal{L} = -\log p$ and $$\sum_i x_i$$ cost $5 or $6."
    out = readable_math(text)
    assert "`ℒ = -log p`" in out, out
    assert "`∑_i x_i`" in out
    assert out.endswith("cost $5 or $6.")


def test_latex_bracket_and_parenthesis_math_are_formulas_not_markdown_escapes() -> None:
    """QA: a note pasted from a chat assistant wrote \\[ … \\] and \\( … \\); Markdown read
    "\\[" as an escaped bracket and the reference showed "[ \\mathrm{softmax}… ]"."""
    from labdeck.textfmt import math_as_text
    from labdeck.tui.widgets.cardtext import render_card_text

    text = "Scores:\n\\[ \\mathrm{softmax}(QK^\\top/\\sqrt{d_k})V \\]\nwith \\(d_k\\) the key size."
    shown = render_card_text(text).plain
    assert "softmax(QK^⊤/√(d_k))V" in shown.replace(" ", ""), shown
    assert "\\" not in shown and "[" not in shown, shown
    assert "with d_k the key size" in shown, shown
    assert math_as_text(r"a \(\alpha\) b") == "a α b"
    assert math_as_text(r"a \[ \beta \] b") == "a β b"


def test_every_card_renders_without_raw_latex() -> None:
    md = MarkdownIt("commonmark").enable("table")
    with_math = 0
    for card in CARDS:
        for text in (card.prompt, card.answer, *card.key_points):
            shown = readable_math(text)
            md.parse(shown)  # Textual's Markdown widget uses markdown-it
            with_math += shown != text
            # no $…$ span is left unconverted, and no LaTeX command leaks through
            assert not re.search(r"\$[^$\s][^$]*\$", shown), (card.id, shown)
            assert not re.search(r"\\(?:frac|sqrt|mathrm|sum|alpha|beta|theta)\b", shown), card.id
    assert with_math > 20  # the deck does use formulas


def test_an_operator_right_after_a_symbol_keeps_both() -> None:
    assert latex_to_text(r"\beta\log\sigma(z)").split() == ["β", "log", "σ(z)"]


def test_one_line_cells_render_math_without_markers() -> None:
    from labdeck.textfmt import math_as_text

    assert math_as_text(r"scores scaled by $\sqrt{d_k}$ first") == "scores scaled by √(d_k) first"


@pytest.mark.parametrize(
    ("latex", "expected"),
    [
        (r"v^\top \tanh(W_1 s + W_2 h_i)", "v^⊤ tanh(W_1 s + W_2 h_i)"),  # read "v^⊤tanh ("
        (r"a \cdot \exp(-x)", "a · exp(-x)"),
        (r"\sin x + \cos(y)", "sin x + cos(y)"),
        (r"\exp\left(-x\right)", "exp(-x)"),
        (r"x \log y", "x log y"),
        (r"\arg\max_\theta", "arg max_θ"),
    ],
)
def test_an_operator_is_spaced_from_a_symbol_and_an_argument_not_its_bracket(
    latex: str, expected: str
) -> None:
    assert latex_to_text(latex) == expected

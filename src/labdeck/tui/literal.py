"""Untrusted text on screen (stored, imported, typed, from a demo child): always literal.

Textual reads a plain ``str`` as markup almost everywhere: content markup in ``Static``,
``Label``, ``notify``, ``Select`` and ``OptionList``; Rich markup in ``DataTable`` cells and
column labels and in ``Tree`` labels. Data shown that way acts: ``[@click=app.quit]`` quits on
a click, ``[link=…]`` emits a terminal hyperlink, and a stray ``[/]`` raises ``MarkupError`` on
every repaint. A Rich ``Text`` is shown verbatim, but its characters reach the terminal as they
are, escape sequences included. So data goes through ``plain`` (control sequences stripped by
the importers' own ``clean_text``) and is shown as ``literal`` Text, never as markup; the
widgets for it are in ``labdeck.tui.widgets.literal``. The app's own fixed strings (key hints,
help) may stay markup.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.style import Style
from rich.text import Text

from labdeck.textfmt import clean_text

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

# Markdown rules that would turn card text into something clickable or make it vanish:
# links, images, bare URLs, reference definitions (swallowed) and raw HTML (dropped by Textual).
ACTIVE_MARKDOWN = ("link", "image", "autolink", "linkify", "reference", "html_block", "html_inline")


def plain(value: object) -> str:
    """``value`` as a string with terminal control sequences and control characters removed."""
    if value is None:
        return ""
    return clean_text(value if isinstance(value, str) else str(value))


def literal(value: object, style: str | Style = "") -> Text:
    """``value`` as literal Text (never parsed as markup), optionally in one style.

    A ``Text`` is passed through: it was built by the app, from pieces that are literal."""
    if isinstance(value, Text):
        return value
    return Text(plain(value), style=style)


def markdown_parser() -> MarkdownIt:
    """Markdown for card text: emphasis, code, lists, tables, headings; nothing that acts."""
    from markdown_it import MarkdownIt

    parser = MarkdownIt("gfm-like")
    parser.disable(list(ACTIVE_MARKDOWN), ignoreInvalid=True)
    return parser

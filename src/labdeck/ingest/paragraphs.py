"""Hard-wrapped Markdown paragraphs joined into one line each, as Markdown reads them.

Notes written in an editor that wraps at ~80 columns carry a newline inside every paragraph
and list item. Markdown renders such a newline as a space, but the grader reads a line break as
the end of a sentence: a key point derived from the notes stopped mid-clause ("Unlike
BatchNorm it does not depend on" / "the batch.") and a wrapped sentence's first words were
lost (QA). Only what Markdown itself would join is joined: a line that starts a block (a list
item, a heading, a table row, a quote, a fence, display math, an image, a rule) or follows a
hard break (two trailing spaces or a backslash) keeps its line. Fenced code, indented code
and ``$$`` blocks are left as written. Two CJK characters meet without a space ("分布\\n式" is one word).
"""

from __future__ import annotations

import re

from labdeck import textfmt  # its CJK pattern is compiled on first use, not at import

_BLOCK_START = re.compile(
    r"""^\s*(?:
        [-*+•·]\s | \d{1,3}[.)、]\s | [（(]?\d{1,2}[)）]\s   # list items
      | \#{1,6}(?:\s|$) | > | \| | !\[ | <                 # heading, quote, table, image, html
      | (?:[-*_]\s*){3,}$ | =+\s*$                          # rule, setext underline
      | \$\$                                               # display math
    )""",
    re.VERBOSE,
)
_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
_ENDS_ITS_LINE = re.compile(r"^\s*(?:\||#{1,6}(?:\s|$)|\$\$)")
_INDENTED = re.compile(r"^(?: {4}|\t)")  # two such lines in a row: an indented code block


def _joins(previous: str, line: str) -> bool:
    if not previous.strip() or not line.strip():
        return False
    if previous.endswith(("  ", "\\")) or _BLOCK_START.match(line):
        return False
    if _INDENTED.match(previous) and _INDENTED.match(line):
        return False
    # a table row, a heading, a fence or display math above: its line ends where it ends
    return not (_ENDS_ITS_LINE.match(previous) or _FENCE.match(previous))


def unwrap_paragraphs(text: str) -> str:
    """``text`` with each paragraph's and list item's soft line breaks joined (see above)."""
    out: list[str] = []
    fence: str | None = None
    in_math = False
    for line in text.split("\n"):
        fence_match = _FENCE.match(line)
        if fence is not None:
            out.append(line)
            if fence_match and fence_match.group(1)[0] == fence[0]:
                fence = None
            continue
        if fence_match:
            fence = fence_match.group(1)
            out.append(line)
            continue
        if line.strip() == "$$" or (line.strip().startswith("$$") and line.count("$$") == 1):
            in_math = not in_math
            out.append(line)
            continue
        if in_math or not out or not _joins(out[-1], line):
            out.append(line)
            continue
        head, tail = out[-1].rstrip(), line.lstrip()  # a hard break at its end is kept
        cjk = textfmt.CJK_RE
        glue = "" if cjk.match(tail[:1]) and cjk.match(head[-1:]) else " "
        out[-1] = head + glue + tail
    return "\n".join(out)

"""JSON-lines input shared by `grade --jsonl` and `exam grade --answers`."""

from __future__ import annotations

import json
from collections.abc import Iterator


def json_lines(
    lines: list[str], name: str, error: type[Exception] = ValueError
) -> Iterator[tuple[int, str, object]]:
    """Yield ``(line number, "name:line", value)`` for each non-blank line; a line that is not
    JSON raises ``error`` naming ``name:line``. A byte-order mark before the first line (as
    some Windows editors write) is ignored."""
    if lines and lines[0].startswith("\ufeff"):
        lines = [lines[0][1:], *lines[1:]]
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{name}:{number}"
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raise error(f"{where}: not valid JSON ({exc.msg})") from None
        yield number, where, value

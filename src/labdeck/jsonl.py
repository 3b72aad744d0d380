"""JSON-lines input shared by `grade --jsonl` and `exam grade --answers`."""

from __future__ import annotations

import json
from collections.abc import Iterator


def _lone_surrogate(value: object) -> str | None:
    """The first string (key or value) that is not valid Unicode text (a lone surrogate such as
    ``"\\ud800"``, which JSON allows but no file, terminal or database can hold)."""
    todo = [value]
    while todo:
        item = todo.pop()
        if isinstance(item, dict):
            todo.extend(item.keys())
            todo.extend(item.values())
        elif isinstance(item, list):
            todo.extend(item)
        elif isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError as exc:
                return f"\\u{ord(item[exc.start]):04x}"
    return None


def json_lines(
    lines: list[str], name: str, error: type[Exception] = ValueError
) -> Iterator[tuple[int, str, object]]:
    """Yield ``(line number, "name:line", value)`` for each non-blank line; a line that is not
    JSON, is nested too deeply to read, or holds a lone surrogate raises ``error`` naming
    ``name:line``. A byte-order mark before the first line (as some Windows editors write) is
    ignored."""
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
        except RecursionError:
            raise error(f"{where}: JSON nested too deeply to read") from None
        bad = _lone_surrogate(value)
        if bad is not None:
            raise error(
                f"{where}: text holds a lone surrogate ({bad}), not valid Unicode"
            ) from None
        yield number, where, value

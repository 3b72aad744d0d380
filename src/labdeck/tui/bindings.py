"""Key bindings shared by several screens."""

from __future__ import annotations

from textual.binding import Binding

# 0–5 pick an SM-2 quality (review screen, mock-exam report).
RATE_BINDINGS = [Binding(str(q), f"rate({q})", str(q), show=False) for q in range(6)]

"""A one-line score bar: ████████░░░░ 0.72."""

from __future__ import annotations

from rich.text import Text


def score_bar(score: float, width: int = 24) -> Text:
    score = max(0.0, min(1.0, score))
    filled = round(score * width)
    style = "green" if score >= 0.6 else "yellow" if score >= 0.35 else "red"
    text = Text()
    text.append("█" * filled, style=style)
    text.append("░" * (width - filled), style="dim")
    text.append(f" {score:.2f}")
    return text

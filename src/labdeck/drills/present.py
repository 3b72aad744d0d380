"""How a drill card is shown and how a typed reply to it is graded: one place for the CLI,
the review screen and the mock exam.

A choice card's options are shuffled per showing: the order is seeded by the card's key and
how many times it has been answered, so it changes from one review to the next but is stable
while the card is on screen (and the same in ``labdeck next`` and ``labdeck check``).
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, replace
from typing import Any

from labdeck.drills.grade import (
    DrillResult,
    grade_choice,
    grade_cloze,
    grade_truefalse,
    parse_choice,
    parse_truefalse,
    unread,
)

LETTERS = "abcdef"


@dataclass(frozen=True)
class Showing:
    kind: str
    prompt: str
    options: tuple[str, ...] = ()  # choice cards: in the order shown (a, b, c, …)
    multiple: bool = False  # choice cards: more than one option is correct
    hint: str | None = None

    def lines(self) -> list[str]:
        """Plain-text rendering for the CLI."""
        out = [self.prompt]
        if self.kind == "choice":
            out += [f"  {LETTERS[i]}) {opt}" for i, opt in enumerate(self.options)]
            out.append("(choose all that apply)" if self.multiple else "(choose one)")
        elif self.kind == "truefalse":
            out.append("(true or false?)")
        return out


def option_order(key: str, options: list[str], showing: int) -> list[str]:
    seed = int.from_bytes(hashlib.sha256(f"{key}#{showing}".encode()).digest()[:8], "big")
    order = list(options)
    random.Random(seed).shuffle(order)
    return order


def show(key: str, kind: str, prompt: str, drill: dict[str, Any], showing: int) -> Showing:
    if kind == "choice":
        options = tuple(option_order(key, list(drill["options"]), showing))
        return Showing(kind, prompt, options, multiple=len(drill["correct"]) > 1)
    if kind == "cloze":
        return Showing(kind, prompt, hint=drill.get("hint"))
    return Showing(kind, prompt)


def lettered(showing: Showing, options: list[str]) -> str:
    """``options`` as this showing lists them: "b) Adam; d) SGD" in the order shown."""
    wanted = set(options)
    return "; ".join(
        f"{LETTERS[i]}) {option}" for i, option in enumerate(showing.options) if option in wanted
    )


def grade_reply(showing: Showing, drill: dict[str, Any], reply: str) -> DrillResult:
    """Grade what the learner typed: the missing text, option letters, or true/false."""
    if showing.kind == "cloze":
        return grade_cloze(reply, list(drill["answers"]))
    typed = bool(reply.strip())
    if showing.kind == "choice":
        chosen = parse_choice(reply, list(showing.options))
        result = replace(
            grade_choice(chosen, list(drill["correct"])),
            expected=lettered(showing, drill["correct"]),  # "b) …": the letter as shown
        )
        if typed and not chosen:
            last = LETTERS[len(showing.options) - 1]
            return unread(result.expected, f"the option letters (a–{last})")
        return result
    if showing.kind == "truefalse":
        said = parse_truefalse(reply)
        result = grade_truefalse(said, bool(drill["verdict"]))
        if typed and said is None:
            return unread(result.expected, "t or f (true / false, 对 / 错)")
        return result
    raise ValueError(f"not a drill card type: {showing.kind!r}")


def expected_answer(showing: Showing, drill: dict[str, Any]) -> str:
    """The answer as a checked reply shows it ("b) softmax", "true", the cloze's text): a
    revealed drill shows this, not the card's answer line, which repeats the why."""
    return grade_reply(showing, drill, "").expected


def explanation(kind: str, drill: dict[str, Any]) -> str | None:
    """The one line shown after answering (a choice's or a claim's ``why``)."""
    return drill.get("why") if kind in ("choice", "truefalse") else None

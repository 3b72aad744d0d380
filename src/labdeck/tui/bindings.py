"""Key bindings shared by the screens that rate answers (review, mock-exam report).

One binding per key, one meaning per key at any moment:

* ``1``–``9`` tick / untick key point n while a key-point checklist is shown; where no
  checklist is shown (revealed answer, self-graded card, blank exam answer) ``0``–``5`` rate
  directly, as they always did;
* ``=`` then ``0``–``5`` rates directly, checklist or not (the digit after ``=`` is a quality,
  never a tick);
* ``enter`` records the quality on offer (the suggestion, or what the ticks imply).

Screens that use them implement ``action_digit(n)`` and ``action_rate_prefix()``
(``RatingKeys`` below holds the shared part).
"""

from __future__ import annotations

from textual.binding import Binding

DIGIT_BINDINGS = [
    Binding(
        str(d),
        f"digit({d})",
        "tick key point 1–9, or rate 0–5 with no checklist",
        show=False,
    )
    for d in range(10)
]
RATE_PREFIX_BINDING = Binding("equals_sign", "rate_prefix", "Rate 0–5", key_display="=")
RATE_BINDINGS = [*DIGIT_BINDINGS, RATE_PREFIX_BINDING]


class RatingKeys:
    """The ``=`` prefix: armed by ``=``, consumed by the next digit, cancelled by anything else."""

    rate_prefix_armed: bool = False

    def take_prefix(self) -> bool:
        """True (and disarmed) when the digit being handled follows ``=``."""
        armed = self.rate_prefix_armed
        self.rate_prefix_armed = False
        return armed


# ---------------------------------------------------------------- one meaning per key, app-wide
#
# A key means one thing on every screen that binds it (tests/tui/test_key_meanings.py walks every
# screen's bindings). Where screens name the action differently, the meaning and the actions
# that carry it are listed here; any other key must have the same action wherever it is bound.
KEY_MEANINGS: dict[str, tuple[str, frozenset[str]]] = {
    "ctrl+s": (
        "submit / go: grade the answer, submit the exam, start it, save, import, run",
        frozenset({"submit", "start", "save", "import_now", "run"}),
    ),
    "ctrl+p": ("command palette", frozenset({"command_palette"})),
    "f5": ("refresh / preview", frozenset({"refresh", "preview"})),
    "q": ("back (quit on the home screen)", frozenset({"app.pop_screen", "back", "app.quit"})),
    "s": ("suspend the card", frozenset({"suspend", "toggle_suspend"})),
    "d": ("demos (the card's demo)", frozenset({"app.demos", "demo"})),
    "r": ("run the demo", frozenset({"run", "run_demo"})),
    "h": ("history (exams, demo runs)", frozenset({"history", "focus_runs"})),
    "e": (
        "mock exam: compose one (home, exam history); edit the card (Browse, Anki's e)",
        frozenset({"app.exam", "new", "edit"}),
    ),
    "space": (
        "act on the thing under the cursor: reveal the answer (review), mark the row (Browse)",
        frozenset({"reveal", "mark"}),
    ),
}

# Keys whose meaning is local to a screen by convention: digits rate / tick / choose, enter
# confirms what is selected, escape leaves or cancels, y / n answer a dialog, ctrl+c is
# Textual's (copy on a screen, quit hint on the app).
SCREEN_LOCAL_KEYS: frozenset[str] = frozenset(
    {*(str(d) for d in range(10)), "enter", "escape", "y", "n", "ctrl+c"}
)

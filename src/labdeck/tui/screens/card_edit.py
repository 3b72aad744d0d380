"""Edit a card in place: prompt, answer and key points (one per line) in text areas.

The modal returns what to do — ``EditRequest("save", values)`` with the cleaned text,
``EditRequest("revert")`` to put the imported text back, or None (cancelled); Browse stores it
through the scheduler (``Scheduler.edit`` / ``revert``), which makes it an undo step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static, TextArea

from labdeck.store.overrides import EditError, clean_edit
from labdeck.store.queries import CardInfo
from labdeck.tui.literal import literal


@dataclass(frozen=True)
class EditRequest:
    action: str  # save | revert
    values: dict[str, Any] = field(default_factory=dict)


class CardEditScreen(ModalScreen[EditRequest | None]):
    """The card's prompt, answer and key points, editable; ctrl+s saves, esc cancels."""

    DEFAULT_CSS = """
    CardEditScreen { align: center middle; }
    CardEditScreen > Vertical {
        width: 100%; max-width: 110; height: 100%; max-height: 40;
        border: thick $primary 60%; background: $surface; padding: 0 1;
    }
    CardEditScreen Label { color: $text-muted; }
    CardEditScreen #edit-prompt { height: 5; }
    CardEditScreen #edit-answer { height: 1fr; min-height: 5; }
    CardEditScreen #edit-points { height: 5; }
    CardEditScreen #edit-error { color: $error; display: none; }
    CardEditScreen #edit-buttons { height: 3; }
    CardEditScreen #edit-buttons Button { margin-right: 1; }
    """
    AUTO_FOCUS = "#edit-prompt"
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("escape", "cancel", "Cancel", priority=True),
    ]

    def __init__(self, card: CardInfo, edited: bool) -> None:
        super().__init__()
        self.card, self.edited = card, edited

    def compose(self) -> ComposeResult:
        card = self.card
        with Vertical(id="edit-box"):
            title = Text.assemble(("Edit ", "bold"), literal(card.key, style="bold"))
            if self.edited:
                title.append("  (edited)", style="italic")
            yield Static(title, id="edit-title")
            yield Label("Prompt")
            yield TextArea(card.prompt, id="edit-prompt", soft_wrap=True)
            yield Label("Answer (the reference the grader compares with; empty: self-graded)")
            yield TextArea(card.answer or "", id="edit-answer", soft_wrap=True)
            yield Label("Key points, one per line")
            yield TextArea("\n".join(card.key_points), id="edit-points", soft_wrap=True)
            yield Static("", id="edit-error")
            with Horizontal(id="edit-buttons"):
                yield Button("Save  ctrl+s", id="edit-save", variant="primary")
                if self.edited:
                    yield Button("Revert to original", id="edit-revert", variant="warning")
                yield Button("Cancel  esc", id="edit-cancel")

    def _values(self) -> dict[str, Any] | None:
        try:
            return clean_edit(
                self.query_one("#edit-prompt", TextArea).text,
                self.query_one("#edit-answer", TextArea).text,
                self.query_one("#edit-points", TextArea).text,
            )
        except EditError as exc:
            error = self.query_one("#edit-error", Static)
            error.update(literal(str(exc)))
            error.display = True
            return None

    def action_save(self) -> None:
        values = self._values()
        if values is not None:
            self.dismiss(EditRequest("save", values))

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#edit-save")
    def _save_pressed(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#edit-revert")
    def _revert_pressed(self) -> None:
        self.dismiss(EditRequest("revert"))

    @on(Button.Pressed, "#edit-cancel")
    def _cancel_pressed(self) -> None:
        self.dismiss(None)

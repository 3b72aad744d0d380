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
from labdeck.tui.widgets.editors import TextEditor


@dataclass(frozen=True)
class EditRequest:
    action: str  # save | revert
    values: dict[str, Any] = field(default_factory=dict)


class CardEditScreen(ModalScreen[EditRequest | None]):
    """The card's prompt, answer and key points, editable; ctrl+s saves, esc cancels.

    Each box opens with the cursor after its text (typing adds to it, as in Anki's editor).
    Esc with unsaved changes asks first: a second esc discards them, ctrl+s saves.
    """

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

    AREAS = ("#edit-prompt", "#edit-answer", "#edit-points")

    def __init__(self, card: CardInfo, edited: bool) -> None:
        super().__init__()
        self.card, self.edited = card, edited
        self._opened: tuple[str, ...] = ()
        self._discard_armed = False  # esc pressed once with unsaved changes

    def compose(self) -> ComposeResult:
        card = self.card
        with Vertical(id="edit-box"):
            title = Text.assemble(("Edit ", "bold"), literal(card.key, style="bold"))
            if self.edited:
                title.append("  (edited)", style="italic")
            yield Static(title, id="edit-title")
            yield Label("Prompt")
            yield TextEditor(card.prompt, id="edit-prompt", soft_wrap=True)
            yield Label("Answer (the reference the grader compares with; empty: self-graded)")
            yield TextEditor(card.answer or "", id="edit-answer", soft_wrap=True)
            yield Label("Key points, one per line")
            yield TextEditor("\n".join(card.key_points), id="edit-points", soft_wrap=True)
            yield Static("", id="edit-error")
            with Horizontal(id="edit-buttons"):
                yield Button("Save  ctrl+s", id="edit-save", variant="primary")
                if self.edited:
                    yield Button("Revert to original", id="edit-revert", variant="warning")
                yield Button("Cancel  esc", id="edit-cancel")

    def on_mount(self) -> None:
        for selector in self.AREAS:
            area = self.query_one(selector, TextArea)
            area.move_cursor(area.document.end)
        self._opened = self._texts()

    def _texts(self) -> tuple[str, ...]:
        return tuple(self.query_one(s, TextArea).text for s in self.AREAS)

    def _say(self, message: str) -> None:
        error = self.query_one("#edit-error", Static)
        error.update(literal(message))
        error.display = True

    def _values(self) -> dict[str, Any] | None:
        try:
            return clean_edit(
                self.query_one("#edit-prompt", TextArea).text,
                self.query_one("#edit-answer", TextArea).text,
                self.query_one("#edit-points", TextArea).text,
            )
        except EditError as exc:
            self._say(str(exc))
            return None

    def action_save(self) -> None:
        values = self._values()
        if values is not None:
            self.dismiss(EditRequest("save", values))

    def action_cancel(self) -> None:
        if self._texts() != self._opened and not self._discard_armed:
            self._discard_armed = True
            self._say("Unsaved changes: esc again discards them, ctrl+s saves.")
            return
        self.dismiss(None)

    @on(TextArea.Changed)
    def _changed(self) -> None:
        if self._discard_armed:  # typing on: the next esc asks again
            self._discard_armed = False
            self.query_one("#edit-error", Static).display = False

    @on(Button.Pressed, "#edit-save")
    def _save_pressed(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#edit-revert")
    def _revert_pressed(self) -> None:
        self.dismiss(EditRequest("revert"))

    @on(Button.Pressed, "#edit-cancel")
    def _cancel_pressed(self) -> None:
        self.dismiss(None)

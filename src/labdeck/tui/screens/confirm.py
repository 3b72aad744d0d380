"""The app's one yes/no dialog: the exam's submit and discard, Browse's bulk changes and
Settings' unsaved changes all ask through it."""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from labdeck.tui.literal import literal


class ConfirmScreen(ModalScreen[bool]):
    """A yes/no question: y / enter confirms, n / escape cancels. With ``enter_confirms``
    False only ``y`` confirms: for what cannot be undone, so that a stray Enter (the end of a
    typed line) never says yes."""

    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    ConfirmScreen > Vertical {
        width: 64; height: auto; padding: 1 2;
        border: thick $warning 60%; background: $surface;
    }
    ConfirmScreen #confirm-keys { color: $text-muted; margin-top: 1; }
    """
    BINDINGS = [
        Binding("y", "answer(True)", "Yes", priority=True),
        Binding("enter", "enter", "Yes", show=False, priority=True),
        Binding("n,escape", "answer(False)", "No", priority=True),
    ]

    def __init__(
        self,
        question: str,
        detail: str | Callable[[], str] = "",
        yes: str | None = None,
        *,
        enter_confirms: bool = True,
    ) -> None:
        super().__init__()
        # a callable detail is read again every half second (a countdown in it keeps going)
        self.question, self.detail = question, detail
        self.enter_confirms = enter_confirms
        self.yes = yes or ("y / enter: yes" if enter_confirms else "y: yes")

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(literal(self.question, style="bold"))
            if self.detail:
                yield Static(literal(self._detail()), id="confirm-detail")
            yield Static(Text(f"{self.yes}   ·   n / esc: no"), id="confirm-keys")

    def _detail(self) -> str:
        return self.detail() if callable(self.detail) else self.detail

    def on_mount(self) -> None:
        if callable(self.detail):
            self.set_interval(0.5, self.refresh_detail)

    def refresh_detail(self) -> None:
        """Show the detail read again now (a no-op before it is mounted or once it has gone)."""
        if self.is_mounted and self.is_attached and callable(self.detail):
            self.query_one("#confirm-detail", Static).update(literal(self._detail()))

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)

    def action_enter(self) -> None:
        if self.enter_confirms:
            self.dismiss(True)
        else:
            self.notify("Press y to confirm, n or esc to cancel.", timeout=3)

"""Settings: daily limits, rollover hour, grading model, demo device and threads, theme.

``ctrl+s`` validates the form, writes the TOML config in a worker and applies the result to
``services.settings``; changing the grading backend or model reloads the grader.
"""

from __future__ import annotations

import os
from dataclasses import replace

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.dom import DOMNode
from textual.widgets import Header, Input, Label, Select, Static

from labdeck.config import Settings, save_settings
from labdeck.tui.literal import literal
from labdeck.tui.screens.base import LabdeckScreen
from labdeck.tui.widgets.editors import TextField
from labdeck.tui.widgets.steadyfooter import SteadyFooter

BACKENDS = (
    ("use — Universal Sentence Encoder", "use"),  # one line in the field at 80 columns
    ("st — sentence-transformers", "st"),
)
DEVICES = (("auto (CUDA when available)", "auto"), ("cpu", "cpu"), ("cuda", "cuda"))

# field -> (label, lower bound, upper bound, help)
INT_FIELDS: dict[str, tuple[str, int, int, str]] = {
    "new_per_day": ("New cards per day", 0, 9999, "new cards introduced per deck each day"),
    "reviews_per_day": ("Reviews per day", 0, 99999, "due reviews shown per deck each day"),
    "rollover_hour": ("Day starts at hour", 0, 23, "local hour when a new study day begins"),
    "demo_threads": (
        "Demo threads",
        1,
        64,
        "CPU threads a demo may use (keep 1: 2 ran 4–13× slower)",
    ),
}


class SettingsForm:
    """Reads and validates the widgets into a new Settings (no I/O)."""

    @staticmethod
    def parse(screen: DOMNode, current: Settings) -> tuple[Settings | None, list[str]]:
        errors: list[str] = []
        values: dict[str, int | str] = {}
        for name, (label, lo, hi, _help) in INT_FIELDS.items():
            raw = screen.query_one(f"#set-{name}", Input).value.strip()
            try:
                value = int(raw)
            except ValueError:
                errors.append(f"{label}: '{raw}' is not a whole number")
                continue
            if not lo <= value <= hi:
                errors.append(f"{label}: must be between {lo} and {hi}")
                continue
            values[name] = value
        for name in ("grading_backend", "demo_device", "theme"):
            choice = screen.query_one(f"#set-{name}", Select).value
            if isinstance(choice, str):
                values[name] = choice
        values["grading_model"] = screen.query_one("#set-grading_model", Input).value.strip()
        if errors:
            return None, errors
        # Each key is a Settings field of the value's type (the int fields range-checked above);
        # mypy cannot follow names taken from INT_FIELDS.
        return replace(current, **values), []  # type: ignore[arg-type]


class SettingsScreen(LabdeckScreen):
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("escape", "back", "Back"),
    ]

    def compose(self) -> ComposeResult:
        settings: Settings = self.services.settings
        themes = sorted(self.app.available_themes)
        if settings.theme not in themes:
            themes.append(settings.theme)
        yield Header(show_clock=False)
        with VerticalScroll(id="settings-form"):
            yield Static("Study", classes="settings-section")
            for name, (label, lo, hi, help_text) in INT_FIELDS.items():
                if name == "demo_threads":
                    continue
                yield self._int_row(name, label, lo, hi, help_text, getattr(settings, name))
            yield Static("Grading", classes="settings-section")
            with Horizontal(classes="settings-row"):
                yield Label("Backend", classes="settings-label")
                yield Select(
                    BACKENDS,
                    value=settings.grading_backend,
                    allow_blank=False,
                    id="set-grading_backend",
                )
            with Horizontal(classes="settings-row"):
                yield Label("Model", classes="settings-label")
                yield TextField(
                    settings.grading_model,
                    placeholder="backend default (name or path)",
                    id="set-grading_model",
                )
            yield Static("Demos", classes="settings-section")
            with Horizontal(classes="settings-row"):
                yield Label("Device", classes="settings-label")
                yield Select(
                    DEVICES, value=settings.demo_device, allow_blank=False, id="set-demo_device"
                )
            label, lo, hi, help_text = INT_FIELDS["demo_threads"]
            hi = max(1, min(hi, os.cpu_count() or hi))
            yield self._int_row("demo_threads", label, lo, hi, help_text, settings.demo_threads)
            yield Static("Appearance", classes="settings-section")
            with Horizontal(classes="settings-row"):
                yield Label("Theme", classes="settings-label")
                yield Select(
                    [(t, t) for t in themes],
                    value=settings.theme,
                    allow_blank=False,
                    id="set-theme",
                )
            yield Static(id="settings-message")
        yield SteadyFooter()

    def _int_row(
        self, name: str, label: str, lo: int, hi: int, help_text: str, value: int
    ) -> Horizontal:
        row = Horizontal(classes="settings-row")
        row.compose_add_child(Label(label, classes="settings-label"))
        row.compose_add_child(
            TextField(str(value), type="integer", id=f"set-{name}", classes="settings-int")
        )
        row.compose_add_child(Static(f"{help_text} ({lo}–{hi})", classes="settings-help"))
        return row

    def on_mount(self) -> None:
        self.title = "Settings"
        self.sub_title = "saved to config.toml"
        self.query_one("#set-new_per_day", Input).focus()
        self._message("ctrl+s saves · esc goes back (asks first when something changed)")

    def _message(self, text: str, error: bool = False) -> None:
        message = self.query_one("#settings-message", Static)
        message.set_class(error, "error")
        message.update(literal(text))  # may quote what was typed, or a path

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_save()

    def action_back(self) -> None:
        """Back; an edit not saved is asked about first (QA: a changed field was dropped by
        esc without a word)."""
        current: Settings = self.services.settings
        new, errors = SettingsForm.parse(self, current)
        if new == current and not errors:
            self.app.pop_screen()
            return
        from labdeck.tui.screens.confirm import ConfirmScreen

        def answered(discard: bool | None) -> None:
            if discard:
                self.app.pop_screen()

        self.app.push_screen(
            ConfirmScreen(
                "Leave without saving?",
                "Your changes are not saved: y leaves without them, n stays (ctrl+s saves).",
                "y: leave without saving",
                enter_confirms=False,
            ),
            answered,
        )

    def action_save(self) -> None:
        current: Settings = self.services.settings
        new, errors = SettingsForm.parse(self, current)
        if new is None:
            self._message("\n".join(errors), error=True)
            self.notify(errors[0], severity="error")
            return
        self.save(current, new)

    @work(thread=True, exclusive=True, group="settings-save")
    def save(self, old: Settings, new: Settings) -> None:
        try:
            path = save_settings(new, self.services.home)
        except OSError as exc:
            self.to_ui(self._failed, f"Could not save settings: {exc}")
            return
        self.to_ui(self._saved, old, new, str(path))

    def _failed(self, message: str) -> None:
        if not self.is_attached:  # the screen was closed meanwhile
            return
        self._message(message, error=True)
        self.notify(message, severity="error")

    def _saved(self, old: Settings, new: Settings, path: str) -> None:
        app = self.app
        services = self.services
        services.settings = new
        if new.theme != app.theme and new.theme in app.available_themes:
            app.theme = new.theme
        if (old.grading_backend, old.grading_model) != (new.grading_backend, new.grading_model):
            services.reset_grader()
            app.run_worker(services.load_grader, thread=True, group="grader", exit_on_error=False)
            app.notify("Grading model changed: loading it in the background.")
        if not self.is_attached:
            return
        self._message(f"Saved to {path}")
        self.notify("Settings saved.", timeout=3)

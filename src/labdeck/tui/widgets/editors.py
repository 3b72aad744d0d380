"""Text fields whose own keys act as they arrive: ``TextField`` (an ``Input``) and ``TextEditor`` (a
``TextArea``). Every typing widget of the app is one of them.

Textual runs a widget's bindings (backspace, delete, the arrows, home, end, ctrl+w…) only once
the key has bubbled up to the app, a queue hop per parent, while the letters typed behind it
are already typed in the box: fast typing lost the edit ("softmaz", backspace, "x" in one read
left "softmaz"; "End, backspace, backspace, 2, 5" in a settings field changed nothing, or saved
2). Here a key the widget binds runs its action at once, in the order typed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import events
from textual.widgets import Input, TextArea

if TYPE_CHECKING:
    from textual.widget import Widget

    _Base = Widget
else:
    # a plain mixin at run time: Textual reads CSS and component classes along each class's
    # first DOM base, so a Widget here would hide Input's and TextArea's own
    _Base = object


class OwnKeysFirst(_Base):
    """Runs the widget's own (non-priority) binding for a key as the key arrives."""

    async def _on_key(self, event: events.Key) -> None:
        for binding in self._bindings.key_to_bindings.get(event.key, ()):
            if not binding.priority and await self.app.run_action(binding.action, self):
                event.stop()
                event.prevent_default()
                return
        await super()._on_key(event)


class TextField(OwnKeysFirst, Input):
    """A one-line text field."""


class TextEditor(OwnKeysFirst, TextArea):
    """A multi-line text editor."""

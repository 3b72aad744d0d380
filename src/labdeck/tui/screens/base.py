"""The typed seam between a screen and the app: ``LabdeckScreen.services``.

Every screen of the labdeck app reads the store, settings, clock, scheduler and grader through
``self.services`` (one :class:`~labdeck.tui.services.Services` per app) instead of reaching
into ``self.app`` untyped. A screen hosted by another app (tests) must give that app a
``services`` attribute, or be a screen that takes its dependencies in ``__init__`` (the exam
screens take an ``ExamContext``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.screen import Screen

from labdeck.tui.services import Services

if TYPE_CHECKING:
    from textual import getters

    from labdeck.tui.app import LabdeckApp


class LabdeckScreen(Screen[None]):
    """A screen that uses the app's :class:`Services`."""

    if TYPE_CHECKING:
        # For the type checker only: ``self.app`` is the labdeck app, so its actions
        # (``action_study``, ``ensure_grader_loading``…) are checked. At run time the attribute
        # stays Textual's own, so a test app that provides the same names can host a screen.
        app = getters.app(LabdeckApp)

    @property
    def services(self) -> Services:
        services = getattr(self.app, "services", None)
        if not isinstance(services, Services):
            raise RuntimeError(f"{type(self).__name__} needs an app with `services`")
        return services

"""The typed seam between a screen and the app: ``LabdeckScreen.services``.

Every screen of the labdeck app reads the store, settings, clock, scheduler and grader through
``self.services`` (one :class:`~labdeck.tui.services.Services` per app) instead of reaching
into ``self.app`` untyped. A screen hosted by another app (tests) must give that app a
``services`` attribute, or be a screen that takes its dependencies in ``__init__`` (the exam
screens take an ``ExamContext``).
"""

from __future__ import annotations

from textual.screen import Screen

from labdeck.tui.services import Services


class LabdeckScreen(Screen):
    """A screen that uses the app's :class:`Services`."""

    @property
    def services(self) -> Services:
        services = getattr(self.app, "services", None)
        if not isinstance(services, Services):
            raise RuntimeError(f"{type(self).__name__} needs an app with `services`")
        return services

"""The typed seam between a screen and the app: ``LabdeckScreen.services``.

Every screen of the labdeck app reads the store, settings, clock, scheduler and grader through
``self.services`` (one :class:`~labdeck.tui.services.Services` per app) instead of reaching
into ``self.app`` untyped. A screen hosted by another app (tests) must give that app a
``services`` attribute, or be a screen that takes its dependencies in ``__init__`` (the exam
screens take an ``ExamContext``).
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from textual import events, on
from textual.app import App
from textual.screen import Screen

from labdeck.tui.services import Services

if TYPE_CHECKING:
    from textual import getters

    from labdeck.tui.app import LabdeckApp


class WorkerCalls(Screen[None]):
    """How a screen's thread workers reach the UI: only while the app runs and the screen is
    up. A worker that ends as the app closes (``q`` in the same burst as the key that started
    it) or after the learner left the screen would otherwise run its callback on widgets that
    are gone (``NoMatches``: the app's error screen over the exit)."""

    _host_app: App[Any] | None = None

    @on(events.Mount)
    def _remember_host_app(self) -> None:
        self._host_app = self.app

    def _running_app(self) -> App[Any] | None:
        """The app this screen was mounted in, while it runs. ``self.app`` raises in a worker
        thread once the screen has left the stack (it is found through the DOM), so a worker
        that outlived its screen could not even say it had finished (an exam graded after
        the learner left its sitting was silent)."""
        app = self._host_app
        if app is None:
            with contextlib.suppress(RuntimeError):  # NoActiveAppError: not mounted
                app = self.app
        return app if app is not None and app.is_running else None

    def to_ui(self, callback: Callable[..., object], *args: Any, **kwargs: Any) -> bool:
        """Run ``callback`` on the UI thread unless the app or this screen has gone
        (checked there, just before it runs); whether it ran."""
        app = self._running_app()
        if app is None:
            return False
        guarded = self.ui_call(callback, *args, **kwargs)
        try:
            # textual types the callback as ``Callable[..., T | Awaitable[T]]``, which mypy
            # cannot solve for a coroutine function (it infers ``Never``); it awaits it fine
            ran: bool = app.call_from_thread(guarded)  # type: ignore[arg-type]
            return ran
        except RuntimeError:  # the app's loop has stopped
            return False

    def ui_call(
        self, callback: Callable[..., object], *args: Any, **kwargs: Any
    ) -> Callable[[], Coroutine[Any, Any, bool]]:
        """``callback`` as ``to_ui`` runs it on the UI thread: not once the app has stopped
        or this screen has left the stack. A popped screen stays attached while its widgets
        are removed: Browse's loader setting the deck menu then failed on the menu's gone
        overlay (``NoMatches``; CI flake in test_key_bursts b-b-q)."""

        async def guarded() -> bool:
            app = self._running_app()
            if app is None or not (self.is_attached and self in app.screen_stack):
                return False
            result = callback(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
            return True

        return guarded

    def notify_from_worker(self, message: str, **kwargs: Any) -> None:
        """A notification from a worker, shown on whatever screen is up while the app runs
        (an error or a result is not dropped because the learner left the screen)."""
        app = self._running_app()
        if app is None:
            return

        def guarded() -> None:
            if app.is_running:
                app.notify(message, **kwargs)

        with contextlib.suppress(RuntimeError):  # the app's loop has stopped
            app.call_from_thread(guarded)


class LabdeckScreen(WorkerCalls):
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

"""What the screens need from the core, in one place: store, settings, clock, grader.

The grader loads in a background thread from app start; ``wait_grader`` blocks a *worker*
thread (never the UI thread) until it is ready.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from labdeck import clock
from labdeck.config import Settings, load_settings
from labdeck.tui import drafts
from labdeck.tui.drafts import Draft

if TYPE_CHECKING:
    from labdeck.grading.grader import Grader
    from labdeck.srs.scheduler import Scheduler
    from labdeck.store import Store
    from labdeck.tui.screens.browse import ReadAhead
    from labdeck.workspace import Workspace


# cards rendered ahead and kept: the next ones in Review's queue, re-drills coming back, the
# first card of Home's highlighted scope
RENDERED_KEPT = 16


class RenderedCards:
    """Cards rendered for Review (``review.Prepared``, by card id, oldest first), shared by the
    screens: Home renders the first card of the highlighted scope while the learner looks at
    it, Review the next ones in its queue. Each is reused only while the card's content is the
    one it was rendered from (``review.prepare`` checks), so nothing stale is ever shown."""

    def __init__(self, keep: int) -> None:
        self.keep = keep
        self._cards: dict[int, Any] = {}
        self._lock = threading.Lock()

    def get(self, card_id: int) -> Any:
        with self._lock:
            return self._cards.get(card_id)

    def put(self, card_id: int, prepared: Any) -> None:
        with self._lock:  # Review's load and prefetch workers, and Home's, all render
            self._cards.pop(card_id, None)
            self._cards[card_id] = prepared
            while len(self._cards) > self.keep:
                self._cards.pop(next(iter(self._cards)))

    def ids(self) -> list[int]:
        with self._lock:
            return list(self._cards)


class Services:
    """Shared by all screens. The store opens lazily (first use, normally in the home screen's
    worker), so the first frame never waits for SQLAlchemy, migrations or the content sync."""

    def __init__(
        self,
        store: Store | None = None,
        home: Path | None = None,
        settings: Settings | None = None,
        now: Callable[[], datetime] = clock.now,
        grader_factory: Callable[[Settings], Grader] | None = None,
    ) -> None:
        self._given_store = store  # tests hand in an open store; the app lets the workspace open it
        self.home = home
        self._settings = settings or Settings()
        self.now = now
        self.grader_factory = grader_factory
        # Unrated answers the learner left in Review, by card id (``tui.drafts``): they come
        # back when the card is shown again, in this session or the next (written at its end)
        self.drafts: dict[int, Draft] = drafts.load(home)
        self.rendered = RenderedCards(RENDERED_KEPT)
        # Browse's opening page, read while Home is idle (``browse.read_ahead``); Browse uses
        # it only while the database file is unchanged since (``browse.current_read_ahead``)
        self.browse_ahead: ReadAhead | None = None
        # told what opening the store is doing, from the thread that opens it (the home
        # screen shows it while the first run loads the shipped deck)
        self.progress: Callable[[str], object] | None = None
        self._workspace: Workspace | None = None
        self._workspace_lock = threading.Lock()
        self._grader: Grader | None = None
        self._grader_error: str | None = None
        self._grader_ready = threading.Event()
        self._grader_started = False
        self._chores_done = False
        self._lock = threading.Lock()

    @classmethod
    def open(cls, home: Path | None) -> Services:
        """Services for the app. Nothing starts here: the home screen's worker opens the store.
        (Opening it in a thread of its own, in parallel with Textual's start-up, competed for
        the GIL: on 2 cores the first frame came 0.15–0.35 s later and the counts no sooner.)"""
        return cls(home=home, settings=load_settings(home))

    def startup_chores(self) -> None:
        """Once per app, at its first idle moment after the home screen has its counts: mark
        the demo runs a killed labdeck left ``running`` as interrupted (the demos screen does
        it too as it opens). Errors are left to the screens that need the store."""
        with self._lock:
            if self._chores_done:
                return
            self._chores_done = True
        try:
            from labdeck.demos.history import mark_interrupted

            mark_interrupted(self.store, now=self.now)
        except Exception:
            pass

    @property
    def store(self) -> Store:
        """The database, opened (migrated, shipped deck synced) on first use, by the
        workspace."""
        return self.workspace.store

    @property
    def store_opened(self) -> bool:
        """Is the store open (or handed in)? Builds nothing: Home asks before its first
        frame, which then need not import the workspace."""
        if self._given_store is not None:
            return True
        return self._workspace is not None and self._workspace.store_opened

    @property
    def store_path(self) -> Path | None:
        """The database file, once the store is open (for error messages)."""
        if self._workspace is None or not self._workspace.store_opened:
            return None
        return self._workspace.store.path

    def take_content_errors(self) -> list[str]:
        """Shipped-deck files that failed to load when the store was opened (each told once)."""
        if self._workspace is None:
            return []
        errors, self._workspace.content_errors = self._workspace.content_errors, []
        return errors

    @property
    def settings(self) -> Settings:
        return self._settings

    @settings.setter
    def settings(self, value: Settings) -> None:
        self._settings = value
        if self._workspace is not None:
            self._workspace.settings = value

    @property
    def workspace(self) -> Workspace:
        """The composition root the app's objects come from (``labdeck.workspace``)."""
        with self._workspace_lock:
            if self._workspace is None:
                from labdeck.workspace import Workspace

                self._workspace = Workspace(
                    self.home,
                    settings=self.settings,
                    now=self.now,
                    store=self._given_store,
                    report=lambda _message: None,  # the app shows content errors itself
                    progress=self._progress,
                )
            return self._workspace

    def _progress(self, message: str) -> None:
        if self.progress is not None:
            self.progress(message)

    def close(self) -> None:
        """Close the store if it was opened (checkpointing its WAL into the main file)."""
        if self._workspace is not None:
            self._workspace.close()

    def scheduler(self) -> Scheduler:
        return self.workspace.scheduler()

    # ------------------------------------------------------------ grader

    def load_grader(self) -> None:
        """Load the grading model (blocking; call from a thread)."""
        with self._lock:
            if self._grader_started:
                return
            self._grader_started = True
        try:
            if self.grader_factory is not None:
                self._grader = self.grader_factory(self.settings)
            else:
                self._grader = self.workspace.grader()
        except Exception as exc:  # a broken model must not break the app
            self._grader_error = f"{type(exc).__name__}: {exc}"
        finally:
            self._grader_ready.set()

    @property
    def grader_ready(self) -> bool:
        return self._grader_ready.is_set()

    @property
    def grader_error(self) -> str | None:
        """Why the model could not be loaded (None while loading or once loaded)."""
        return self._grader_error

    def wait_grader(self, timeout: float | None = None) -> Grader:
        """The grader, waiting for it to load. Raises RuntimeError if loading failed."""
        if not self._grader_started:
            self.load_grader()
        self._grader_ready.wait(timeout)
        if self._grader_error:
            raise RuntimeError(f"grading model unavailable ({self._grader_error})")
        if self._grader is None:
            raise RuntimeError("grading model not loaded yet")
        return self._grader

    def reset_grader(self) -> None:
        with self._lock:
            self._grader, self._grader_error = None, None
            self._grader_started = False
            self._grader_ready.clear()

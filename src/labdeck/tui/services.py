"""What the screens need from the core, in one place: store, settings, clock, grader.

The grader loads in a background thread from app start; ``wait_grader`` blocks a *worker*
thread (never the UI thread) until it is ready.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from labdeck import clock
from labdeck.config import Settings, load_settings

if TYPE_CHECKING:
    from labdeck.grading.grader import Grader
    from labdeck.srs.scheduler import Scheduler
    from labdeck.store import Store
    from labdeck.tui.screens.review import Draft


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
        self._store = store
        self.home = home
        self.settings = settings or Settings()
        self.now = now
        self.grader_factory = grader_factory
        self.content_errors: list[str] = []
        # Unrated answers the learner left in Review, by card id (``review.Draft``): they come
        # back when the card is shown again, for as long as the app runs.
        self.drafts: dict[int, Draft] = {}
        self._store_lock = threading.Lock()
        self._grader: Grader | None = None
        self._grader_error: str | None = None
        self._grader_ready = threading.Event()
        self._grader_started = False
        self._lock = threading.Lock()

    @classmethod
    def open(cls, home: Path | None) -> Services:
        """Services for the app; the store starts opening at once in a background thread, in
        parallel with Textual's start-up (errors surface when a screen first uses it)."""
        services = cls(home=home, settings=load_settings(home))
        threading.Thread(target=services._prefetch_store, daemon=True).start()
        return services

    def _prefetch_store(self) -> None:
        try:
            from labdeck.demos.history import mark_interrupted

            mark_interrupted(self.store, now=self.now)  # demo runs a killed labdeck left behind
            from labdeck.srs import scheduler  # noqa: F401  (warm the import for the home screen)
        except Exception:
            pass  # reported by the screen that needs the store

    @property
    def store(self) -> Store:
        """The database, opened (migrated, shipped deck synced) on first use."""
        with self._store_lock:
            if self._store is None:
                from labdeck.config import content_dir
                from labdeck.ingest.fingerprint import content_changed
                from labdeck.store import open_store

                store = open_store(self.home)
                root = content_dir()
                if root.exists() and content_changed(store, root):
                    from labdeck.ingest.load import sync_content

                    _reports, self.content_errors = sync_content(store, root)
                self._store = store
            return self._store

    def close(self) -> None:
        """Close the store if it was opened (checkpointing its WAL into the main file)."""
        with self._store_lock:
            if self._store is not None:
                self._store.close()

    def scheduler(self) -> Scheduler:
        from labdeck.srs.scheduler import Scheduler

        return Scheduler(self.store, self.settings, now=self.now)

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
                from labdeck.grading.dbcache import DbEmbeddingCache
                from labdeck.grading.embedder import load_embedder
                from labdeck.grading.grader import Grader

                embedder = load_embedder(
                    self.settings.grading_backend,
                    self.settings.grading_model or None,
                    threads=1,
                )
                self._grader = Grader(embedder, cache=DbEmbeddingCache(self.store))
        except Exception as exc:  # a broken model must not break the app
            self._grader_error = f"{type(exc).__name__}: {exc}"
        finally:
            self._grader_ready.set()

    @property
    def grader_ready(self) -> bool:
        return self._grader_ready.is_set()

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

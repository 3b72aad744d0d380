"""What the screens need from the core, in one place: store, settings, clock, grader.

The grader loads in a background thread from app start; ``wait_grader`` blocks a *worker*
thread (never the UI thread) until it is ready.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from labdeck import clock
from labdeck.config import Settings, load_settings
from labdeck.store import Store


@dataclass
class Services:
    store: Store
    home: Path | None = None
    settings: Settings = field(default_factory=Settings)
    now: Callable[[], datetime] = clock.now
    grader_factory: Callable[[Settings], Any] | None = None
    _grader: Any = None
    _grader_error: str | None = None
    _grader_ready: threading.Event = field(default_factory=threading.Event)
    _grader_started: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def open(cls, home: Path | None) -> Services:
        from labdeck.ingest.load import sync_content
        from labdeck.store import open_store

        store = open_store(home)
        sync_content(store)
        return cls(store=store, home=home, settings=load_settings(home))

    def scheduler(self):
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

    def wait_grader(self, timeout: float | None = None) -> Any:
        """The grader, waiting for it to load. Raises RuntimeError if loading failed."""
        if not self._grader_started:
            self.load_grader()
        self._grader_ready.wait(timeout)
        if self._grader_error:
            raise RuntimeError(f"grading model unavailable ({self._grader_error})")
        return self._grader

    def reset_grader(self) -> None:
        with self._lock:
            self._grader, self._grader_error = None, None
            self._grader_started = False
            self._grader_ready.clear()

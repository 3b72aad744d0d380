"""The one composition root: settings, paths, clock, and the objects built from them.

Every entry point gets its store, scheduler and grader from a ``Workspace`` and builds none of
its own: the CLI commands (``Workspace.from_args``), the TUI (``tui.services.Services`` wraps
one) and the benchmarks. Nothing here imports the CLI or the TUI, and heavy things (SQLAlchemy
sessions, the embedding model) are built lazily, on first use.

What "opening the store" means, in one place: open (creating) the database in the home,
migrate it (a backup first, reported), then load the shipped deck when its fingerprint (kept in
the database) changed — unless ``LABDECK_NO_CONTENT`` is set or ``sync_content=False``.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from labdeck import clock
from labdeck.config import Settings, load_settings

if TYPE_CHECKING:
    import sqlite3

    from labdeck.grading.grader import Grader
    from labdeck.srs.scheduler import Scheduler
    from labdeck.store import Store


def _to_stderr(message: str) -> None:
    print(f"labdeck: {message}", file=sys.stderr)


class Workspace:
    """One learner's home: its settings, clock and store, and what is built on them."""

    def __init__(
        self,
        home: Path | str | None = None,
        *,
        settings: Settings | None = None,
        now: Callable[[], datetime] = clock.now,
        store: Store | None = None,
        sync_content: bool = True,
        report: Callable[[str], None] = _to_stderr,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        self.home = Path(home) if home is not None else None
        self.now = now
        self.sync_content = sync_content
        self.report = report
        # hears what opening the store is doing ("Loading the shipped deck 1/3: exam-b…")
        self.progress = progress
        self.content_errors: list[str] = []
        self._settings = settings
        self._store = store
        self._store_lock = threading.Lock()
        self._graders: dict[tuple[str, str | None, int, bool], Grader] = {}
        self._grader_lock = threading.Lock()

    @classmethod
    def from_args(cls, args: Any, *, sync_content: bool = True) -> Workspace:
        """The workspace a CLI command runs in (``--home``, else LABDECK_HOME, else the
        platform's data directory)."""
        return cls(getattr(args, "home", None), sync_content=sync_content)

    # ------------------------------------------------------------ settings and store

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self.home)
        return self._settings

    @settings.setter
    def settings(self, value: Settings) -> None:
        """New settings (the settings screen saved them): the next scheduler and grader use
        them; graders already built for another model stay cached under their own key."""
        self._settings = value

    @property
    def store(self) -> Store:
        """The database: opened, migrated and with the shipped deck synced, on first use."""
        with self._store_lock:
            if self._store is None:
                self._store = self._open_store()
            return self._store

    @property
    def store_opened(self) -> bool:
        return self._store is not None

    def _content_root(self) -> Path | None:
        """The shipped deck the store is kept in sync with (None: not synced here)."""
        from labdeck.config import content_dir

        root = content_dir()
        if self.sync_content and not os.environ.get("LABDECK_NO_CONTENT") and root.exists():
            return root
        return None

    def _open_store(self) -> Store:
        from labdeck.store import open_store

        self._tell("Opening the database…")
        store = open_store(self.home)
        if store.backup_made:
            self.report(f"database upgraded; backup at {store.backup_made}")
        root = self._content_root()
        if root is not None:
            from labdeck.ingest.fingerprint import content_changed

            if content_changed(store, root):
                from labdeck.ingest.load import sync_content

                _reports, self.content_errors = sync_content(
                    store,
                    root,
                    progress=lambda step: self._tell(f"Loading the shipped deck {step}…"),
                )
                for error in self.content_errors:
                    self.report(f"shipped deck not loaded: {error}")
        return store

    @contextmanager
    def peek(self) -> Iterator[sqlite3.Connection | None]:
        """A read-only DB-API connection, in one read transaction, on the database exactly as
        ``store`` would open it — yielded only when opening it would change nothing: the
        store's own checks pass and it is at the head revision (``store.db.peek``) and the
        shipped deck it holds is the one installed (``fingerprint_of`` against
        ``content_fingerprint``, as ``_open_store`` decides). Reads through it need no
        SQLAlchemy (the home screen's first counts: ``home_view.read_on``). None when the
        store is open already (use it), or opening has work to do (create, migrate, sync the
        deck) or an error to report: open the store then."""
        if self._store is not None:
            yield None
            return
        from labdeck.config import db_path
        from labdeck.store.db import peek

        with peek(db_path(self.home)) as conn:
            root = self._content_root()
            if conn is not None and root is not None:
                import sqlite3

                from labdeck.ingest.fingerprint import content_fingerprint, fingerprint_of

                try:
                    synced = fingerprint_of(conn) == content_fingerprint(root)
                except (sqlite3.Error, OSError):
                    synced = False
                if not synced:
                    yield None
                    return
            yield conn

    def today(self) -> date:
        """The current study day (``settings.rollover_hour``), as ``Scheduler.today``."""
        return clock.study_day(self.now(), self.settings.rollover_hour)

    def _tell(self, message: str) -> None:
        if self.progress is not None:
            self.progress(message)

    def close(self) -> None:
        """Close the store if it was opened (its WAL is checkpointed into the main file)."""
        with self._store_lock:
            if self._store is not None:
                self._store.close()

    # ------------------------------------------------------------ what is built on them

    def scheduler(self) -> Scheduler:
        from labdeck.srs.scheduler import Scheduler

        return Scheduler(self.store, self.settings, now=self.now)

    def grader(
        self,
        backend: str | None = None,
        model: str | None = None,
        *,
        threads: int = 1,
        cache: bool = True,
    ) -> Grader:
        """The grader (built once per configuration, by ``grading.build.build_grader``): the
        configured embedding model unless ``backend``/``model`` say otherwise; with ``cache``,
        the database's embedding cache and the learner's adopted personal calibration (a store
        that cannot be opened only costs those).

        Raises ``labdeck.grading.embedder.EmbedderError`` when the model cannot be loaded.
        """
        if backend is None:
            backend = "st" if model else (self.settings.grading_backend or "use")
            if model is None and backend == "st":
                model = self.settings.grading_model or None
        key = (backend, model or None, max(1, int(threads)), cache)
        with self._grader_lock:
            built = self._graders.get(key)
            if built is None:
                built = self._build_grader(*key)
                self._graders[key] = built
            return built

    def _build_grader(self, backend: str, model: str | None, threads: int, cache: bool) -> Grader:
        from labdeck.grading.build import build_grader

        store = None
        if cache:
            try:
                store = self.store
            except Exception:  # no database: grading still works, the cache is just memory
                store = None
        grader: Grader = build_grader(backend, model, threads=threads, store=store)
        return grader

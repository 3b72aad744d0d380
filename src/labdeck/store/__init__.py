"""Persistence: tables, engine, migrations on open."""

from labdeck.store.db import (
    DatabaseBusy,
    DatabaseCorrupt,
    Store,
    StoreError,
    open_store,
)

__all__ = ["DatabaseBusy", "DatabaseCorrupt", "Store", "StoreError", "open_store"]

"""Persistence: tables, engine, migrations on open, backups, one error classifier."""

from labdeck.store.db import (
    DatabaseBusy,
    DatabaseCorrupt,
    DatabaseReadOnly,
    DiskFull,
    NewerSchema,
    Store,
    StoreError,
    close_all,
    open_store,
)

__all__ = [
    "DatabaseBusy",
    "DatabaseCorrupt",
    "DatabaseReadOnly",
    "DiskFull",
    "NewerSchema",
    "Store",
    "StoreError",
    "close_all",
    "open_store",
]

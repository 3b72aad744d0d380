"""Has the shipped deck changed since the last sync? (Cheap: no parsing, no SQLAlchemy.)"""

from __future__ import annotations

import hashlib
from pathlib import Path


def content_fingerprint(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.glob("*/*.toml")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def stamp_path(db_file: Path) -> Path:
    return db_file.with_name(db_file.name + ".content")


def content_changed(db_file: Path, root: Path) -> bool:
    stamp = stamp_path(db_file)
    return not stamp.exists() or stamp.read_text().strip() != content_fingerprint(root)

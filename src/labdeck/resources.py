"""Where the project-root folders (``migrations/``, ``content/``) are at run time.

A checkout or editable install reads them from the project root; a regular wheel carries a copy
in ``labdeck/_bundled`` (see setup.py).
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def project_folder(name: str) -> Path | None:
    """``name`` at the project root if this is a checkout, else the wheel's bundled copy;
    None when neither exists."""
    for candidate in (_PACKAGE.parents[1] / name, _PACKAGE / "_bundled" / name):
        if candidate.is_dir():
            return candidate
    return None

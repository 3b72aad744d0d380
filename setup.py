"""Bundle ``migrations/`` and ``content/`` into the wheel as ``labdeck/_bundled``.

Both live at the project root (the Alembic and content conventions of this repository); a
regular, non-editable install has no project root, so the build copies them into the package.
An editable install or a checkout reads them from the root (``labdeck.resources``).
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
BUNDLED = ("migrations", "content")
SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", "*.db", "*.bak")


class BuildWithBundled(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:  # the root is there to read from
            return
        target = Path(self.build_lib) / "labdeck" / "_bundled"
        for name in BUNDLED:
            dest = target / name
            if dest.exists():
                shutil.rmtree(dest)
            shutil.copytree(ROOT / name, dest, ignore=SKIP)


setup(cmdclass={"build_py": BuildWithBundled})

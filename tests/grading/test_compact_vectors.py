"""The embedding cache's compact vectors: float16 behind a format marker, float32 rows from
before still read, and grading from the stored vectors gives the same verdicts on the real
model (a sample of the labelled development set)."""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from labdeck.grading.cache import text_hash
from labdeck.grading.dbcache import F16_MARK, DbEmbeddingCache, decode_vector, encode_vector
from labdeck.grading.grader import GradeItem, Grader

SAMPLE = 80  # labelled answers graded twice (about 4 s on one thread)
SCORE_TOLERANCE = 1e-3  # measured: score ≤ 2e-5 apart, key-point similarity ≤ 4e-5


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Any]:
    from labdeck.store import open_store

    st = open_store(tmp_path)
    yield st
    st.close()


def test_a_vector_takes_half_the_bytes_and_keeps_three_digits() -> None:
    vec = np.random.default_rng(1).standard_normal(512).astype(np.float32) / 20
    raw = encode_vector(vec)
    assert raw[:4] == F16_MARK and len(raw) == 4 + 2 * 512  # float32 was 4 * 512
    back = decode_vector(raw, 512)
    assert back is not None and back.dtype == np.float32
    np.testing.assert_allclose(back, vec, rtol=1e-3, atol=1e-6)
    assert decode_vector(raw, 511) is None  # a blob of the wrong size is no vector
    assert decode_vector(raw[:-2], 512) is None


def test_float32_rows_written_before_still_read(store: Any) -> None:
    vec = np.arange(512, dtype=np.float32) / 1000
    conn = sqlite3.connect(store.path)
    with conn:
        conn.execute(
            "INSERT INTO embedding_cache (model_id, text_hash, dim, vector, created_at) "
            "VALUES ('m', ?, 512, ?, '2026-01-01 00:00:00.000000')",
            (text_hash("old row"), vec.astype("<f4").tobytes()),
        )
    conn.close()
    got = DbEmbeddingCache(store).get("m", ["old row"])
    np.testing.assert_array_equal(got["old row"], vec)  # exactly: it was stored as float32


def test_grading_from_stored_vectors_keeps_every_verdict(
    store: Any, use_embedder: Any, counting: Any, dev_items: list[dict[str, Any]]
) -> None:
    sample = random.Random(5).sample(dev_items, SAMPLE)
    items = [GradeItem(it["reference"], it["answer"], it.get("key_points")) for it in sample]
    computed = Grader(use_embedder, cache=DbEmbeddingCache(store)).grade_many(items)

    stored = Grader(counting, cache=DbEmbeddingCache(store)).grade_many(items)
    references = {t for it in sample for t in [it["reference"], *(it.get("key_points") or [])]}
    assert not references & set(counting.texts)  # the reference side came from the database

    assert sum(len(r.key_points) for r in computed) > 3 * SAMPLE
    for a, b in zip(computed, stored, strict=True):
        assert (b.quality, b.sure) == (a.quality, a.sure)
        assert b.score == pytest.approx(a.score, abs=SCORE_TOLERANCE)
        assert [(k.covered, k.contradicted) for k in b.key_points] == [
            (k.covered, k.contradicted) for k in a.key_points
        ]
        for ka, kb in zip(a.key_points, b.key_points, strict=True):
            assert kb.similarity == pytest.approx(ka.similarity, abs=SCORE_TOLERANCE)


def test_a_batch_of_mixed_sizes_reads_back_through_the_orm(store: Any) -> None:
    """``put`` writes at driver level: its rows must read back as the model's rows (the
    created_at stamp in SQLAlchemy's own form) and as the same vectors, whatever their size."""
    from sqlmodel import select

    from labdeck.store.models import EmbeddingCache as Row

    rng = np.random.default_rng(5)
    vectors = {f"text {i}": rng.standard_normal(512 if i % 3 else 384) for i in range(9)}
    DbEmbeddingCache(store).put("m", vectors)
    with store.session() as s:
        rows = s.exec(select(Row).where(Row.model_id == "m")).all()
    assert len(rows) == 9 and all(r.created_at.year >= 2000 for r in rows)
    assert {r.dim for r in rows} == {384, 512}
    back = DbEmbeddingCache(store).get("m", list(vectors))
    for text, vec in vectors.items():
        np.testing.assert_allclose(back[text], vec, rtol=1e-3, atol=1e-3)

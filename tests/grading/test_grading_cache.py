"""Embedding caches: in memory, and in the real SQLite database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from labdeck.grading.cache import EmbeddingCache, MemoryCache, text_hash
from labdeck.grading.dbcache import F16_MARK, DbEmbeddingCache
from labdeck.grading.grader import Grader

REFERENCE = "The generator maps noise to samples. The discriminator tells real from fake."
KEY_POINTS = ["The generator maps noise to samples.", "The discriminator separates real and fake."]
ANSWER = "A generator turns noise into fake samples while a discriminator judges real vs fake."


@pytest.fixture
def store(tmp_path: Path) -> Any:
    from labdeck.store import open_store

    st = open_store(tmp_path)
    yield st
    st.close()


def test_memory_cache_roundtrip_and_lru() -> None:
    cache = MemoryCache(max_items=2)
    assert isinstance(cache, EmbeddingCache)
    cache.put("m", {"a": np.ones(3, np.float32), "b": np.zeros(3, np.float32)})
    assert set(cache.get("m", ["a", "b", "c"])) == {"a", "b"}
    assert cache.get("other-model", ["a"]) == {}
    cache.put("m", {"c": np.ones(3, np.float32)})
    assert len(cache) == 2


def test_db_cache_roundtrip(store: Any) -> None:
    cache = DbEmbeddingCache(store)
    assert isinstance(cache, EmbeddingCache)
    vec = np.arange(4, dtype=np.float32) / 7
    cache.put("model-x", {"hello": vec})
    fresh = DbEmbeddingCache(store)  # empty memory layer: must come from the database
    got = fresh.get("model-x", ["hello", "missing"])
    assert list(got) == ["hello"]
    np.testing.assert_allclose(got["hello"], vec, rtol=1e-3)  # stored as float16
    assert got["hello"].dtype == np.float32
    assert fresh.get("model-y", ["hello"]) == {}

    from sqlmodel import select

    from labdeck.store.models import EmbeddingCache as Row

    with store.session() as s:
        row = s.exec(select(Row)).one()
    assert row.model_id == "model-x"
    assert row.text_hash == text_hash("hello")
    assert row.dim == 4
    assert row.vector == F16_MARK + vec.astype("<f2").tobytes()
    assert row.created_at is not None


def test_grader_caches_reference_side_in_the_database(store: Any, counting: Any) -> None:
    grader = Grader(counting, cache=DbEmbeddingCache(store))
    first = grader.grade(REFERENCE, ANSWER, KEY_POINTS)
    reference_texts = set(counting.calls[0])
    assert set(KEY_POINTS) <= reference_texts
    assert ANSWER not in reference_texts  # answers are not cached
    assert DbEmbeddingCache(store).count(counting.model_id) == len(reference_texts)

    counting.calls.clear()
    again = Grader(counting, cache=DbEmbeddingCache(store)).grade(REFERENCE, ANSWER, KEY_POINTS)
    assert len(counting.calls) == 1  # only the answer side was encoded
    assert not set(counting.calls[0]) & set(KEY_POINTS)
    assert again.quality == first.quality
    assert again.score == pytest.approx(first.score, abs=1e-3)  # float16 in the database


def test_changed_text_invalidates_itself(store: Any, counting: Any) -> None:
    grader = Grader(counting, cache=DbEmbeddingCache(store))
    grader.grade(REFERENCE, ANSWER, KEY_POINTS)
    counting.calls.clear()
    edited = [KEY_POINTS[0], "The discriminator classifies samples as real or generated."]
    Grader(counting, cache=DbEmbeddingCache(store)).grade(REFERENCE, ANSWER, edited)
    encoded = {t for call in counting.calls for t in call}
    assert edited[1] in encoded  # the edited key point is embedded afresh
    assert KEY_POINTS[0] not in encoded  # the unchanged one comes from the cache


def test_broken_database_does_not_stop_grading(tmp_path: Path, use_embedder: Any) -> None:
    from labdeck.store import open_store

    st = open_store(tmp_path)
    cache = DbEmbeddingCache(st)
    st.close()
    st.engine.dispose()
    (tmp_path / "labdeck.db").unlink()
    (tmp_path / "labdeck.db").write_bytes(b"this is not a database")
    result = Grader(use_embedder, cache=cache).grade(REFERENCE, ANSWER, KEY_POINTS)
    assert result.quality >= 3
    assert cache.errors >= 1

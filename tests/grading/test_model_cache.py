"""The embedding model's warm-start cache: same vectors, and any damage means a rebuild."""

from __future__ import annotations

import json
import pickle
import zlib
from pathlib import Path

import numpy as np
import pytest

from labdeck.grading import model_cache
from labdeck.grading.embedder import UseEmbedder

TEXTS = ["The encoder reads the source sequence.", "編碼器讀取源序列", "KV cache 的大小"]


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("model-cache")


@pytest.fixture(scope="module")
def built(cache_dir: Path, monkeypatch_module: pytest.MonkeyPatch) -> UseEmbedder:
    monkeypatch_module.setenv("LABDECK_CACHE", str(cache_dir))
    embedder = UseEmbedder()
    assert not embedder.from_cache
    assert model_cache.cache_path(cache_dir).exists()
    return embedder


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        yield mp


def test_cached_model_gives_identical_vectors(built: UseEmbedder, cache_dir: Path) -> None:
    again = UseEmbedder()
    assert again.from_cache
    assert np.array_equal(built.encode(TEXTS), again.encode(TEXTS))


def test_warm_arrays_are_views_of_the_file_not_copies(built: UseEmbedder) -> None:
    """The ~80 MB of weights are mapped, not read and copied (format 1 copied them twice)."""
    again = UseEmbedder()
    table = again._use._backend.table
    assert again.from_cache and table.nbytes > 10_000_000
    assert not table.flags.owndata and not table.flags.writeable


@pytest.mark.parametrize("damage", ["flip", "truncate", "empty", "header"])
def test_damaged_cache_is_rebuilt(built: UseEmbedder, cache_dir: Path, damage: str) -> None:
    path = model_cache.cache_path(cache_dir)
    data = bytearray(path.read_bytes())
    if damage == "flip":
        data[len(data) // 2] ^= 0xFF
    elif damage == "truncate":
        data = data[: len(data) // 3]
    elif damage == "empty":
        data = bytearray()
    else:
        data[: len(model_cache._MAGIC)] = b"X" * len(model_cache._MAGIC)
    path.write_bytes(bytes(data))
    assert model_cache.load(cache_dir, threads=1) is None
    rebuilt = UseEmbedder()
    assert not rebuilt.from_cache
    assert np.array_equal(built.encode(TEXTS), rebuilt.encode(TEXTS))
    assert model_cache.load(cache_dir, threads=1) is not None


def test_a_file_for_another_install_is_not_used(built: UseEmbedder, cache_dir: Path) -> None:
    path = model_cache.cache_path(cache_dir)
    data = path.read_bytes()
    end = data.index(b"\n", len(model_cache._MAGIC))
    header = json.loads(data[len(model_cache._MAGIC) : end])
    header["key"]["version"] = "0.0.0"
    path.write_bytes(model_cache._MAGIC + json.dumps(header).encode() + data[end:])
    assert model_cache.load(cache_dir, threads=1) is None
    model_cache.store(cache_dir, built._use)


class _Evil:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_the_cache_cannot_run_code(built: UseEmbedder, cache_dir: Path, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    payload = pickle.dumps((_Evil(marker), {}), protocol=5)
    header = {"key": model_cache._key(), "length": len(payload), "crc32": zlib.crc32(payload)}
    path = model_cache.cache_path(cache_dir)
    path.write_bytes(model_cache._MAGIC + json.dumps(header).encode() + b"\n" + payload)
    assert model_cache.load(cache_dir, threads=1) is None
    assert not marker.exists()
    model_cache.store(cache_dir, built._use)


def test_an_unwritable_cache_directory_only_costs_time(built: UseEmbedder, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    assert model_cache.store(blocker / "sub", built._use) is None
    assert model_cache.load(blocker / "sub", threads=1) is None

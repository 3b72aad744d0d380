"""Embedding caches: the protocol, and an in-memory implementation.

A cache maps (model id, exact text embedded) to a vector. Only reference-side texts (reference
answers, key points, the learner's notes) are cached; typed answers are not. A changed text has
a different key, so edits invalidate themselves. ``dbcache.DbEmbeddingCache`` stores the same
thing in the database.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    import numpy as np


def text_hash(text: str) -> str:
    """sha256 hex digest of the exact text embedded (UTF-8)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@runtime_checkable
class EmbeddingCache(Protocol):
    def get(self, model_id: str, texts: Iterable[str]) -> dict[str, np.ndarray]:
        """The cached vectors among ``texts`` (missing texts are simply absent)."""
        ...

    def put(self, model_id: str, vectors: Mapping[str, np.ndarray]) -> None: ...


class MemoryCache:
    """An in-process LRU cache (the default when no database cache is given)."""

    def __init__(self, max_items: int = 20_000) -> None:
        self.max_items = max_items
        self._data: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()

    def __len__(self) -> int:
        return len(self._data)

    def get(self, model_id: str, texts: Iterable[str]) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        for text in texts:
            key = (model_id, text)
            vec = self._data.get(key)
            if vec is not None:
                self._data.move_to_end(key)
                out[text] = vec
        return out

    def put(self, model_id: str, vectors: Mapping[str, np.ndarray]) -> None:
        for text, vec in vectors.items():
            self._data[(model_id, text)] = vec
            self._data.move_to_end((model_id, text))
        while len(self._data) > self.max_items:
            self._data.popitem(last=False)

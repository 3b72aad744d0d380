"""The one place that builds the grader: the embedder named by the settings (or the command
line), the database embedding cache when there is a store, and the learner's personal
calibration when one has been adopted in that store (``personal.py``). Without a store the
shipped parameters are used, so ``labdeck grade`` stays reproducible."""

from __future__ import annotations

from typing import Any


def build_grader(
    backend: str | None = None,
    model: str | None = None,
    *,
    threads: int = 1,
    store: Any = None,
) -> Any:
    """A ready grader (raises ``EmbedderError`` when the model cannot load)."""
    from labdeck.grading import calibration
    from labdeck.grading.embedder import load_embedder
    from labdeck.grading.grader import Grader

    embedder = load_embedder(backend or "use", model, threads=max(1, threads))
    if store is None:
        return Grader(embedder)
    from labdeck.grading.dbcache import DbEmbeddingCache
    from labdeck.grading.personal import personal_params

    shipped = calibration.params_for(embedder.model_id)
    return Grader(
        embedder,
        cache=DbEmbeddingCache(store),
        params=personal_params(store, shipped) or shipped,
    )

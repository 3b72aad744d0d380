"""Fitted grading calibration (placeholder until refit)."""

from typing import Any

DEFAULT_MODEL = "use-multilingual-v3"
ST_FALLBACK = "st:all-minilm-l6-v2"

_P = {
    "features": ["sim", "coverage", "precision", "terms", "length", "cross", "swaps", "negations"],
    "weights": [1.0, 3.0, 3.0, 0.5, 3.0, 0.7, -3.0, -2.5],
    "cutpoints": [-8.0, -4.6, -3.6, -1.6, 1.3],
    "cover_threshold": 0.5,
}
PARAMS: dict[str, dict[str, Any]] = {DEFAULT_MODEL: _P, ST_FALLBACK: _P}
BASELINE: dict[str, dict[str, Any]] = {
    DEFAULT_MODEL: {"features": ["sim"], "weights": [6.0], "cutpoints": [1, 2, 3, 4, 5]},
    ST_FALLBACK: {"features": ["sim"], "weights": [6.0], "cutpoints": [1, 2, 3, 4, 5]},
}

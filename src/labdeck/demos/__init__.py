"""Runnable demos: a light registry, one module per demo, a child entry point and a runner.

Importing this package (or ``registry``, ``events``, ``runner``, ``render``, ``commands``,
``history``) never imports torch, transformers or scikit-learn: those are imported only in the
demo child process (``python -m labdeck.demos.run``) and in the demo modules themselves.
"""

from labdeck.demos.registry import DEMO_IDS, InvalidParameter, UnknownDemo, all_demos, get

__all__ = ["DEMO_IDS", "InvalidParameter", "UnknownDemo", "all_demos", "get"]

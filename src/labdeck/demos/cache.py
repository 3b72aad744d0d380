"""Trained demo models, cached so a second run with the same training parameters skips training.

One file per (demo, training parameters, seed, device type, torch version) under
``labdeck.config.cache_dir() / "demos"``: a ``torch.save`` of the model's ``state_dict`` plus
plain extras (loss curves). Writes are atomic (a temporary file, then ``os.replace``); a file
that cannot be read is ignored and rewritten. Runs in the demo child only (imports torch).
Training uses its own generator seeded from the run's seed, so a run that loads the model gives
the same results as the run that trained it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import torch
from torch import nn

M = TypeVar("M", bound=nn.Module)  # the model type a training function takes


def cache_file(demo_id: str, key: Mapping[str, Any], seed: int, device: Any) -> Path:
    from labdeck.config import cache_dir

    ident = {
        "demo": demo_id,
        "params": dict(sorted(key.items())),
        "seed": seed,
        "device": torch.device(device).type,
        "torch": torch.__version__,
    }
    digest = hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()[:20]
    return cache_dir() / "demos" / f"{demo_id}-{digest}.pt"


def load_or_train(
    ctx: Any,
    key: Mapping[str, Any],
    model: M,
    train: Callable[[M], dict[str, Any]],
) -> dict[str, Any]:
    """Load ``model``'s trained weights from the cache, or ``train(model)`` and store them.

    ``train`` trains in place and returns plain extras (lists, numbers) kept with the weights.
    Sets ``ctx.cached`` and returns the extras.
    """
    path = cache_file(ctx.demo_id, key, ctx.seed, ctx.device)
    if path.is_file():
        try:
            saved = torch.load(path, map_location=ctx.device, weights_only=True)
            model.load_state_dict(saved["state"])
            ctx.cached = True
            ctx.emit.text(f"Trained model loaded from the cache ({path.name}); training skipped.")
            return dict(saved["extra"])
        except Exception:  # unreadable or from an older layout: train again and overwrite
            pass
    extra = train(model)
    ctx.cached = False
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.stem, suffix=".tmp")
        os.close(fd)
        torch.save({"state": model.state_dict(), "extra": extra}, tmp)
        os.replace(tmp, path)
    except Exception as exc:  # a read-only or full cache must not fail the run
        ctx.emit.text(f"(could not cache the trained model: {exc})")
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    return extra

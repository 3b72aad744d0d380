"""The optimisers every demo trains with: torch.optim's Adam and AdamW, minus torch._dynamo.

In torch 2.x every ``torch.optim.Optimizer`` imports ``torch._dynamo`` (and with it sympy)
the first time it is used, although nothing here is compiled: ``add_param_group`` (called by
the constructor), ``zero_grad``, ``state_dict`` and ``load_state_dict`` are wrapped in
``torch._disable_dynamo``, whose first call imports ``torch._dynamo`` to build the wrapper,
and ``step`` is wrapped in ``_use_grad_for_differentiable``, which imports it to insert graph
breaks. ``foreach=False`` or ``fused`` change nothing about that. The import costs 1.2-3 s of
CPU in every demo that trains, more than some demos' whole training.

The classes below are torch's own optimisers (same update code, same state, accepted by
``torch.optim.lr_scheduler``); they call the undecorated methods (``inspect.unwrap``: the
``__wrapped__`` chain that ``functools.wraps`` sets), with gradients off as
``_use_grad_for_differentiable`` sets them for ``differentiable=False``. Outside
``torch.compile`` the wrappers do nothing else, so the updates are bit for bit those of
``torch.optim`` (a test checks it). A step with a closure, or a differentiable optimiser, takes
torch's own path. Where a future torch stops setting ``__wrapped__``, the wrapped methods are
used: slower to start, never wrong.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import torch
from torch.optim import Optimizer


def _undecorated(method: Callable[..., Any]) -> Callable[..., Any]:
    """The innermost function under every ``functools.wraps`` layer (torch's dynamo wrappers
    and, once an instance of the torch class has patched it, its profiling hook)."""
    inner: Callable[..., Any] = inspect.unwrap(method)
    return inner


_ADD_PARAM_GROUP = _undecorated(Optimizer.add_param_group)
_ZERO_GRAD = _undecorated(Optimizer.zero_grad)
_STATE_DICT = _undecorated(Optimizer.state_dict)
_LOAD_STATE_DICT = _undecorated(Optimizer.load_state_dict)


class _Eager:
    """Mixin for a ``torch.optim`` optimiser used eagerly (never under ``torch.compile``)."""

    _torch_step: Callable[..., Any]

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        _ADD_PARAM_GROUP(self, param_group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        _ZERO_GRAD(self, set_to_none)

    def state_dict(self) -> dict[str, Any]:
        state: dict[str, Any] = _STATE_DICT(self)
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        _LOAD_STATE_DICT(self, state_dict)

    def step(self, closure: Callable[[], float] | None = None) -> Any:
        if closure is not None or getattr(self, "defaults", {}).get("differentiable"):
            return type(self)._torch_step(self, closure)  # torch's path handles these
        with torch.no_grad():
            return _undecorated(type(self)._torch_step)(self, closure)


class Adam(_Eager, torch.optim.Adam):
    """``torch.optim.Adam`` without the torch._dynamo import (same arguments)."""

    _torch_step = torch.optim.Adam.step


class AdamW(_Eager, torch.optim.AdamW):
    """``torch.optim.AdamW`` without the torch._dynamo import (same arguments)."""

    _torch_step = torch.optim.AdamW.step

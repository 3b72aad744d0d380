"""Demos train with ``labdeck.demos.optim``: torch's own Adam/AdamW updates, bit for bit,
without the ``torch._dynamo`` (and sympy) import that every ``torch.optim`` optimiser pays on
first use (1.2-2.4 s of CPU per demo run here)."""

from __future__ import annotations

import ast
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
from demo_helpers import child_env

from labdeck.demos import registry

torch = pytest.importorskip("torch")


def _train(cls: type, steps: int = 15, **kw: object) -> list[object]:
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.Tanh(), torch.nn.Linear(7, 2))
    opt = cls(model.parameters(), lr=1e-2, **kw)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 1e-2, total_steps=steps)
    for _ in range(steps):
        opt.zero_grad()
        model(torch.randn(4, 5)).pow(2).sum().backward()
        opt.step()
        sched.step()
    return [p.detach().clone() for p in model.parameters()] + [opt.state_dict()["state"]]


@pytest.mark.parametrize(
    ("name", "kw"),
    [("Adam", {}), ("Adam", {"fused": True}), ("AdamW", {"weight_decay": 0.01})],
)
def test_updates_are_torch_optims_bit_for_bit(name: str, kw: dict) -> None:
    from labdeck.demos import optim

    ours, theirs = _train(getattr(optim, name), **kw), _train(getattr(torch.optim, name), **kw)
    for a, b in zip(ours[:-1], theirs[:-1], strict=True):
        assert torch.equal(a, b)
    for sa, sb in zip(ours[-1].values(), theirs[-1].values(), strict=True):
        assert all(torch.equal(sa[k], sb[k]) for k in sa)


def test_no_demo_builds_a_torch_optim_optimiser_itself() -> None:
    """One place builds the demos' optimisers; torch.optim.<Optimizer>(...) elsewhere would
    bring the torch._dynamo import back (schedulers are fine)."""
    offenders = []
    for demo in registry.all_demos():
        spec = importlib.util.find_spec(demo.module)
        assert spec is not None and spec.origin is not None
        for node in ast.walk(ast.parse(Path(spec.origin).read_text(encoding="utf-8"))):
            f = node.func if isinstance(node, ast.Call) else None
            built = isinstance(f, ast.Attribute) and ast.unparse(f.value) == "torch.optim"
            if built and f.attr[:1].isupper():  # type: ignore[union-attr]
                offenders.append(f"{demo.id}: {ast.unparse(f)}")  # type: ignore[arg-type]
    assert not offenders, offenders


_PROBE = """
import json, sys
from labdeck.demos import registry
from labdeck.demos.run import run_inprocess
out = {}
for d in registry.all_demos():
    short = {p.name: int(p.min) for p in d.params if p.type is int
             and (p.name == "epochs" or (p.name.endswith("steps") and p.name != "steps"))}
    run_inprocess(d.id, short, preset="quick", device="cpu")
    out[d.id] = [m for m in ("torch._dynamo", "sympy") if m in sys.modules]
print(json.dumps(out))
"""


def test_demo_runs_never_import_torch_dynamo() -> None:
    """Every registry demo, quick preset with training cut to its minimum, in a fresh process:
    neither torch._dynamo nor sympy is imported at any point."""
    done = subprocess.run(
        [sys.executable, "-c", _PROBE],
        capture_output=True,
        text=True,
        timeout=300,
        env=child_env(),
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    imported = json.loads(done.stdout.splitlines()[-1])
    assert set(imported) == {d.id for d in registry.all_demos()}
    assert imported == {d: [] for d in imported}, imported

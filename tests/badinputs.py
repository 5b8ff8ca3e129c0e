"""The case table behind tests/test_bad_inputs.py.

A case names the public symbol it exercises (`'module.Name'`), says what is wrong with the call, gives the
call, and declares the one right outcome: a named error whose message must contain given text, or a result
that a naive formula written in the case confirms. Every case also checks that the call left the caller's
tensors and modules as they were: inputs are snapshotted before the call and compared after it (parameters
and buffers of modules passed in included), except the arguments a case declares as legitimately updated.
"""
from dataclasses import dataclass, field
from typing import Any, Callable
import math
import torch
from torch import nn, Tensor

@dataclass
class Case:
    target: str                   # 'module.Name' of the public symbol exercised
    label: str                    # what is wrong (or special) about this call
    fn: Callable                  # the call: fn(*args, **kwargs)
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    raises: type = None           # the expected exception type, None when the call must succeed
    match: str = None             # text the message must contain
    check: Callable = None        # check(result): asserts the result is right (success cases)
    updates: tuple = ()           # positions (ints) / names (str) of arguments the call may change
    warns: type = None            # a warning the call must emit

    @property
    def id(self): return f'{self.target}: {self.label}'

def err(target, label, fn, *args, match, raises=ValueError, updates=(), **kwargs):
    "A call that must raise `raises` with `match` in its message."
    return Case(target, label, fn, args, kwargs, raises=raises, match=match, updates=updates)

def terr(target, label, fn, *args, match, **kwargs):
    "A call that must raise TypeError with `match` in its message."
    return err(target, label, fn, *args, match=match, raises=TypeError, **kwargs)

def ok(target, label, fn, *args, check, updates=(), warns=None, **kwargs):
    "A call that must succeed, its result confirmed by `check(result)`."
    return Case(target, label, fn, args, kwargs, check=check, updates=updates, warns=warns)

# -------------------------------------------------------------------------------------------------------------
# snapshots: every tensor reachable from the arguments, and the parameters and buffers of every module

def _tensors(obj, path, out, seen):
    if id(obj) in seen: return
    seen.add(id(obj))
    if isinstance(obj, Tensor): out[path] = obj
    elif isinstance(obj, nn.Module):
        for name, t in list(obj.named_parameters()) + list(obj.named_buffers()): out[f'{path}.{name}'] = t
        for name, m in obj.named_modules():
            for k, v in getattr(m, '_memories', {}).items():
                val = getattr(m, k, None)
                if isinstance(val, Tensor): out[f'{path}.{name}.{k}(memory)'] = val
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj): _tensors(v, f'{path}[{i}]', out, seen)
    elif isinstance(obj, dict):
        for k, v in obj.items(): _tensors(v, f'{path}[{k!r}]', out, seen)
    elif isinstance(obj, torch.optim.Optimizer):
        for i, g in enumerate(obj.param_groups): _tensors(g['params'], f'{path}.param_groups[{i}]', out, seen)

def snapshot(case: Case) -> dict:
    "{path: (tensor, its copy)} for every argument the case does not allow to change."
    found, seen = {}, set()
    for i, a in enumerate(case.args):
        if i not in case.updates: _tensors(a, f'args[{i}]', found, seen)
    for k, a in case.kwargs.items():
        if k not in case.updates: _tensors(a, k, found, seen)
    return {p: (t, t.detach().clone(), t.shape, t.dtype) for p, t in found.items()}

def changed(snap: dict, modules_only=False) -> list:
    "The paths whose tensors differ from their snapshot (NaN equal to NaN)."
    bad = []
    for path, (t, copy, shape, dtype) in snap.items():
        if t.shape != shape or t.dtype != dtype: bad.append(path); continue
        now = t.detach()
        if now.is_floating_point() or now.is_complex():
            same = torch.equal(now.isnan(), copy.isnan()) and torch.equal(now.nan_to_num(0., 1., -1.), copy.nan_to_num(0., 1., -1.))
        else: same = torch.equal(now, copy)
        if not same: bad.append(path)
    return bad

# -------------------------------------------------------------------------------------------------------------
# small naive helpers the case tables share

def close(expected, **kw):
    "A check that the result equals `expected` within the dtype's tolerance (NaN equal to NaN)."
    def check(result):
        exp = expected() if callable(expected) else expected
        torch.testing.assert_close(result, exp, equal_nan=True, **kw)
    return check

def all_of(*checks):
    def check(result):
        for c in checks: c(result)
    return check

def finite(result):
    "A check that every tensor in the result is finite."
    ts = result if isinstance(result, (list, tuple)) else [result]
    for t in ts:
        if isinstance(t, Tensor): assert torch.isfinite(t).all(), f'non-finite values in {t}'

def dtype_is(dtype):
    def check(result): assert result.dtype == dtype, f'dtype {result.dtype}, expected {dtype}'
    return check

def zero_d(value, dtype=torch.float32):
    "A hyper-parameter as a 0-d tensor."
    return torch.tensor(value, dtype=dtype)

def grad_of(fn, x, *args, **kwargs):
    "d(sum fn(x))/dx, for cases that check a gradient (x is not changed)."
    x = x.detach().clone().requires_grad_(True)
    fn(x, *args, **kwargs).sum().backward()
    return x.grad

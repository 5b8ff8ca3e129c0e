"""Bad-input cases for `snnlit.neuron`: the IF/LIF neurons (both backends, both step modes) and the containers.

Results are checked against a naive loop written here from the equations, one Python float at a time (Python's
float arithmetic is IEEE double, inf and NaN included), with the hard reset as the select snnlit documents
(a spike resets to v_reset, also from +inf).
"""
import math
import torch
from torch import nn
from badinputs import err, terr, ok, close, finite, dtype_is, all_of, zero_d
from helpers import generator
from snnlit.neuron import BaseNode, IFNode, LIFNode, seq_fold_forward, SeqToANNContainer, StepModeContainer
from snnlit.functional import reset_net, detach_net, set_threshold_margin
from snnlit.surrogate import Sigmoid

g = generator('neuron')
inf, nan = math.inf, math.nan
CASES = []

def holds(pred, what):
    "A check that `pred(result)` is true; `what` says what was expected."
    def check(result): assert pred(result), f'expected {what}, got {result!r}'
    return check

def shape_is(*shape):
    return holds(lambda r: tuple((r[0] if isinstance(r, tuple) else r).shape) == shape, f'shape {shape}')

# ---- the naive neuron ---------------------------------------------------------------------------------------------

def naive(x_seq, kind='if', tau=2.0, decay_input=True, v_threshold=1.0, v_reset=0.0, v0=None):
    "(spikes, v_seq) in float64 for x_seq [T, ...], one element and one step at a time."
    T = x_seq.shape[0]
    flat = x_seq.double().reshape(T, -1).tolist()
    n = len(flat[0]) if T else 0
    rest = 0.0 if v_reset is None else v_reset
    S, V = [[0.0] * n for _ in range(T)], [[0.0] * n for _ in range(T)]
    for i in range(n):
        v = rest if v0 is None else v0
        for t in range(T):
            x = flat[t][i]
            if kind == 'if': h = v + x
            elif decay_input: h = v + (x - (v - rest)) / tau
            else: h = v - (v - rest) / tau + x
            s = 1.0 if h - v_threshold >= 0 else 0.0
            v = (h - s * v_threshold) if v_reset is None else (v_reset if s else h)
            S[t][i], V[t][i] = s, v
    as_t = lambda a: torch.tensor(a, dtype=torch.float64).reshape(x_seq.shape)
    return as_t(S), as_t(V)

def node(kind, **kw):
    return IFNode(**kw) if kind == 'if' else LIFNode(**kw)

def run_m(kind, backend='torch', **kw):
    "Run a fresh multi-step neuron; return (spikes, v_seq) as float64."
    def f(x_seq):
        n = node(kind, step_mode='m', backend=backend, store_v_seq=True, **kw)
        return n(x_seq).double(), n.v_seq.double()
    return f

def run_s(kind, **kw):
    "Run a fresh single-step neuron over x_seq step by step; return (spikes, v_seq)."
    def f(x_seq):
        n = node(kind, **kw)
        s, v = [], []
        for x in x_seq: s.append(n(x)); v.append(n.v)
        return torch.stack(s).double(), torch.stack(v).double()
    return f

def like_naive(x_seq, kind, **kw):
    lif_kw = {k: v for k, v in kw.items() if k in ('tau', 'decay_input')}
    node_kw = {k: v for k, v in kw.items() if k in ('v_threshold', 'v_reset')}
    return close(lambda: naive(x_seq, kind, **lif_kw, **node_kw))

def target(kind): return 'neuron.IFNode' if kind == 'if' else 'neuron.LIFNode'

# ---- hyper-parameters: numbers and 0-d tensors ----------------------------------------------------------------------

for cls, name in ((IFNode, 'neuron.IFNode'), (LIFNode, 'neuron.LIFNode'), (BaseNode, 'neuron.BaseNode')):
    for p, bads, expected in (('v_threshold', (nan, -inf), 'a real number > -inf'),
                              ('v_reset', (nan, inf, -inf), 'a finite real number')):
        for bad in bads:
            for as_tensor in (False, True):
                value = zero_d(bad) if as_tensor else bad
                CASES.append(err(name, f'{p}={bad}{" (0-d)" if as_tensor else ""}', lambda c=cls, p=p, v=value: c(**{p: v}),
                                 match=f'`{p}` must be {expected}'))
        CASES.append(terr(name, f'{p} a str', lambda c=cls, p=p: c(**{p: '1'}), match=f'`{p}` must be a'))
        CASES.append(terr(name, f'{p} a bool', lambda c=cls, p=p: c(**{p: True}), match=f'`{p}` must be a'))
        CASES.append(terr(name, f'{p} a 1-d tensor', lambda c=cls, p=p: c(**{p: torch.ones(2)}), match=f'`{p}` must be a'))
        CASES.append(terr(name, f'{p} a bool 0-d tensor', lambda c=cls, p=p: c(**{p: torch.tensor(True)}), match=f'`{p}`'))
    # +inf: a layer that never fires (a membrane read-out), with a hard reset only
    CASES.append(err(name, 'v_threshold=inf with a soft reset', lambda c=cls: c(v_threshold=inf, v_reset=None),
                     match='`v_threshold` must be finite with a soft reset (v_reset=None); +inf needs a hard reset, got inf'))
    CASES.append(terr(name, 'v_threshold=None', lambda c=cls: c(v_threshold=None), match='`v_threshold` must be a real number, got None'))
    for p in ('detach_reset', 'store_v_seq'):
        CASES.append(terr(name, f'{p}=1 (not a bool)', lambda c=cls, p=p: c(**{p: 1}), match=f'`{p}` must be a bool'))
    CASES.append(terr(name, 'surrogate_function not callable', lambda c=cls: c(surrogate_function=3), match='`surrogate_function` must be callable'))
    CASES.append(err(name, "step_mode='x'", lambda c=cls: c(step_mode='x'), match="`step_mode` must be one of ('s', 'm')"))
    CASES.append(terr(name, 'step_mode=2', lambda c=cls: c(step_mode=2), match="`step_mode` must be one of ('s', 'm')"))
    CASES.append(terr(name, 'backend=None', lambda c=cls: c(backend=None), match='`backend` must be one of'))

CASES += [
    err('neuron.IFNode', "backend='cuda'", lambda: IFNode(backend='cuda'), match="`backend` must be one of ('torch', 'fused', 'triton') for IFNode, got 'cuda'"),
    err('neuron.BaseNode', "backend='fused' (no charge to fuse)", lambda: BaseNode(backend='fused'), match="`backend` must be one of ('torch',) for BaseNode"),
    err('neuron.BaseNode', 'no neuronal_charge', lambda x: BaseNode()(x), torch.rand(2, 3), raises=NotImplementedError, match='must define `neuronal_charge(x)`'),
    ok('neuron.IFNode', 'hyper-parameters as 0-d tensors are read as numbers',
       lambda: (lambda n: (n.v_threshold, n.v_reset))(IFNode(v_threshold=zero_d(0.5), v_reset=zero_d(-0.25, torch.float64))),
       check=holds(lambda r: r == (0.5, -0.25) and all(type(v) is float for v in r), 'the floats (0.5, -0.25)')),
    ok('neuron.IFNode', 'v_reset=None (soft reset) is valid', lambda: IFNode(v_reset=None).v_reset, check=holds(lambda r: r is None, 'None')),
]
for bad, match in ((nan, '`tau` must be a finite real number'), (inf, '`tau` must be a finite real number'),
                   (-inf, '`tau` must be a finite real number'), (1.0, '`tau` must be > 1'), (0.5, '`tau` must be > 1'),
                   (0.0, '`tau` must be > 1'), (-2.0, '`tau` must be > 1')):
    for as_tensor in (False, True):
        value = zero_d(bad) if as_tensor else bad
        CASES.append(err('neuron.LIFNode', f'tau={bad}{" (0-d)" if as_tensor else ""}', lambda v=value: LIFNode(tau=v), match=match))
CASES += [
    terr('neuron.LIFNode', 'tau a str', lambda: LIFNode(tau='2'), match='`tau` must be a finite real number'),
    terr('neuron.LIFNode', 'tau a bool', lambda: LIFNode(tau=True), match='`tau` must be a finite real number'),
    terr('neuron.LIFNode', 'tau an int 1-d tensor', lambda: LIFNode(tau=torch.tensor([2])), match='`tau` must be a finite real number'),
    terr('neuron.LIFNode', 'decay_input=None', lambda: LIFNode(decay_input=None), match='`decay_input` must be a bool'),
    ok('neuron.LIFNode', 'tau as a 0-d float64 tensor', lambda x: run_m('lif', tau=zero_d(3.0, torch.float64))(x),
       (x := torch.rand(5, 2, 3, generator=g) * 3), check=like_naive(x, 'lif', tau=3.0)),
]

# ---- inputs: kind, ndim, dtype --------------------------------------------------------------------------------------

for kind in ('if', 'lif'):
    T_ = target(kind)
    CASES += [
        terr(T_, 'int input, single step', lambda x, k=kind: node(k)(x), torch.arange(6).reshape(2, 3), match='`x` must be a floating-point tensor'),
        terr(T_, 'bool input, single step', lambda x, k=kind: node(k)(x), torch.ones(2, 3, dtype=torch.bool), match='`x` must be a floating-point tensor'),
        terr(T_, 'list input, single step', lambda k=kind: node(k)([0.5, 1.5]), match='`x` must be a floating-point tensor'),
        terr(T_, 'int input, multi step', lambda x, k=kind: node(k, step_mode='m')(x), torch.ones(3, 2, 2, dtype=torch.int64), match='`x_seq` must be a floating-point tensor [T, B, ...]'),
        terr(T_, 'int input, fused', lambda x, k=kind: node(k, step_mode='m', backend='fused')(x), torch.ones(3, 2, 2, dtype=torch.int32), match='`x_seq` must be a floating-point tensor [T, B, ...]'),
        err(T_, '0-d input, multi step', lambda x, k=kind: node(k, step_mode='m')(x), torch.tensor(1.), match='`x_seq` must be a floating-point tensor [T, B, ...] with at least 1 dimension'),
        terr(T_, 'complex input', lambda x, k=kind: node(k, step_mode='m')(x), torch.ones(2, 2, dtype=torch.complex64), match='`x_seq` must be a floating-point tensor'),
    ]
    for dtype in (torch.float16, torch.bfloat16, torch.float64):
        # dyadic inputs: every value the neuron computes is exact in half precision too
        x = (torch.randint(0, 7, (4, 2, 3), generator=g) * 0.25).to(dtype)
        for backend in ('torch', 'fused'):
            CASES.append(ok(T_, f'{dtype} input, {backend}: dtype kept, values of the float64 loop',
                            lambda x, k=kind, b=backend: (lambda n: (n(x), n.v_seq))(node(k, step_mode='m', backend=b, store_v_seq=True)),
                            x, check=lambda r, x=x, k=kind, d=dtype: (dtype_is(d)(r[0]), dtype_is(d)(r[1]),
                                                                     close(naive(x, k))((r[0].double(), r[1].double())))))

# ---- sizes: T = 0, T = 1, B = 0, B = 1 ---------------------------------------------------------------------------

for kind in ('if', 'lif'):
    T_ = target(kind)
    for backend in ('torch', 'fused'):
        CASES += [
            ok(T_, f'T=0 ({backend}): an empty spike sequence', lambda x, k=kind, b=backend: run_m(k, b)(x), torch.rand(0, 2, 3),
               check=holds(lambda r: r[0].shape == r[1].shape == (0, 2, 3), 'spikes and v_seq of shape (0, 2, 3)')),
            ok(T_, f'T=0 after a step keeps the membrane ({backend})',
               lambda x0, x, k=kind, b=backend: (lambda n: (n(x0), n(x), n.v)[1:])(node(k, step_mode='m', backend=b)),
               torch.full((1, 2), 0.75), torch.rand(0, 2),
               check=lambda r, k=kind: (r[0].shape == (0, 2)) and close(naive(torch.full((1, 2), 0.75), k)[1][0].float())(r[1])),
            err(T_, f'T=0 with a membrane of another batch size ({backend})',
                lambda x0, x, k=kind, b=backend: (lambda n: (n(x0), n(x)))(node(k, step_mode='m', backend=b)),
                torch.rand(1, 2), torch.rand(0, 3), match='reset_net'),
            ok(T_, f'B=0 ({backend})', lambda x, k=kind, b=backend: run_m(k, b)(x), torch.rand(4, 0, 3),
               check=shape_is(4, 0, 3)),
        ]
    for shape in ((1, 1, 3), (5, 1, 4), (1, 3)):
        x = torch.rand(*shape, generator=g) * 2.5
        CASES.append(ok(T_, f'shape {shape}, multi step', run_m(kind), x, check=like_naive(x, kind)))
        CASES.append(ok(T_, f'shape {shape}, fused', run_m(kind, 'fused'), x, check=like_naive(x, kind)))
        CASES.append(ok(T_, f'shape {shape}, single steps', run_s(kind), x, check=like_naive(x, kind)))
    CASES.append(ok(T_, '4-d input [T, B, C, N]', run_m(kind), (x := torch.rand(3, 2, 2, 3, generator=g) * 2), check=like_naive(x, kind)))

# ---- NaN and ±inf inputs: the documented answers, both backends -------------------------------------------------

for kind, extra in (('if', {}), ('lif', {}), ('lif', dict(decay_input=False))):
    for v_reset in (0.0, -0.5, None):
        for value in (inf, -inf, nan):
            x = torch.rand(5, 2, 3, generator=g) * 2
            x[1, 0, 0] = value
            for backend in ('torch', 'fused'):
                CASES.append(ok(target(kind), f'{value} input, v_reset={v_reset}, {extra}, {backend}',
                                run_m(kind, backend, v_reset=v_reset, **extra), x,
                                check=like_naive(x, kind, v_reset=v_reset, **extra)))
            CASES.append(ok(target(kind), f'{value} input, v_reset={v_reset}, {extra}, single steps',
                            run_s(kind, v_reset=v_reset, **extra), x, check=like_naive(x, kind, v_reset=v_reset, **extra)))

def finite_grad_after_inf(kind, backend):
    "A +inf input to a hard-reset neuron: the gradient is finite everywhere and 0 at the +inf step."
    def f(x):
        xg = x.clone().requires_grad_()
        node(kind, step_mode='m', backend=backend)(xg).sum().backward()
        return xg.grad
    return f
x_inf = torch.rand(5, 2, 3, generator=g) * 2
x_inf[2, 1, 1] = inf
for kind in ('if', 'lif'):
    for backend in ('torch', 'fused'):
        CASES.append(ok(target(kind), f'+inf input: finite gradient, 0 at that step ({backend})', finite_grad_after_inf(kind, backend), x_inf,
                        check=all_of(finite, holds(lambda r: r[2, 1, 1] == 0, 'a zero gradient at the +inf step'))))

def tau_grads(backend, tau, dtype):
    def f(x):
        xg = x.clone().requires_grad_()
        n = LIFNode(tau=tau, step_mode='m', backend=backend)
        n.v = torch.ones(x.shape[1:], dtype=dtype, requires_grad=True) * 1
        (n(xg).sum() + n.v.sum()).backward()
        return xg.grad
    return f
for tau, dtype in ((1e39, torch.float32), (1e5, torch.float16), (1e300, torch.float64)):
    x = (torch.rand(4, 2, 3, generator=g) * 2).to(dtype)
    CASES.append(ok('neuron.LIFNode', f'huge tau={tau} in {dtype}, fused: finite gradients as the reference', tau_grads('fused', tau, dtype), x,
                    check=all_of(finite, dtype_is(dtype), close(lambda f=tau_grads('torch', tau, dtype), x=x: f(x), rtol=1e-2, atol=1e-2))))

# ---- stateful misuse --------------------------------------------------------------------------------------------

def two_batches(backend, step_mode, reset_between=None):
    "Forward and backward on one batch, then the next batch of the same size, with `reset_between` (or nothing) in between."
    def f(net, x1, x2):
        run = (lambda x: net(x)) if step_mode == 'm' else (lambda x: torch.stack([net(x_t) for x_t in x]))
        run(x1).sum().backward()
        if reset_between is not None: reset_between(net)
        out = run(x2)
        out.sum().backward()
        return out
    return f

x1, x2 = torch.rand(4, 2, 3, generator=g), torch.rand(4, 2, 3, generator=g)
for backend, step_mode in (('torch', 's'), ('torch', 'm'), ('fused', 'm')):
    mk = lambda b=backend, s=step_mode: nn.Sequential(nn.Linear(3, 3), LIFNode(step_mode=s, backend=b))
    CASES += [
        err('neuron.LIFNode', f'backward through a finished sequence ({backend}, {step_mode})', two_batches(backend, step_mode),
            mk(), x1, x2, raises=RuntimeError, match='call `snnlit.functional.reset_net(net)` between sequences', updates=(0,)),
        err('neuron.IFNode', f'backward through a finished sequence, detach_net named ({backend}, {step_mode})', two_batches(backend, step_mode),
            nn.Sequential(nn.Linear(3, 3), IFNode(step_mode=step_mode, backend=backend)), x1, x2, raises=RuntimeError,
            match='`snnlit.functional.detach_net(net)`', updates=(0,)),
        ok('neuron.LIFNode', f'reset_net between batches ({backend}, {step_mode})', two_batches(backend, step_mode, reset_net),
           mk(), x1, x2, updates=(0,), check=shape_is(4, 2, 3)),
        ok('neuron.LIFNode', f'detach_net between batches ({backend}, {step_mode})', two_batches(backend, step_mode, detach_net),
           mk(), x1, x2, updates=(0,), check=shape_is(4, 2, 3)),
    ]
for kw in (dict(detach_reset=True), dict(v_reset=None, detach_reset=True), dict(surrogate_function=Sigmoid(spiking=False))):
    for step_mode in ('s', 'm'):
        CASES.append(err('neuron.LIFNode', f'backward through a finished sequence ({kw}, {step_mode})', two_batches('torch', step_mode),
                         nn.Sequential(nn.Linear(3, 3), LIFNode(step_mode=step_mode, **kw)), x1, x2, raises=RuntimeError,
                         match='call `snnlit.functional.reset_net(net)` between sequences', updates=(0,)))
CASES += [
    err('neuron.LIFNode', 'the fused graph backpropagated twice (retain_graph=True)',
        lambda x: (lambda s: (s.sum().backward(retain_graph=True), s.sum().backward()))(LIFNode(step_mode='m', backend='fused')(x)),
        x1.clone().requires_grad_(), raises=RuntimeError, match="use backend='torch'", updates=(0,)),
    err('neuron.LIFNode', 'batch size changed without reset (multi step)', lambda n, a, b: (n(a), n(b)), LIFNode(step_mode='m'),
        torch.rand(3, 2, 4), torch.rand(3, 5, 4), match='call `snnlit.functional.reset_net(net)`', updates=(0,)),
    err('neuron.IFNode', 'batch size changed without reset (single step)', lambda n, a, b: (n(a), n(b)), IFNode(),
        torch.rand(2, 4), torch.rand(5, 4), match='call `snnlit.functional.reset_net(net)`', updates=(0,)),
    err('neuron.LIFNode', 'batch size changed without reset (fused)', lambda n, a, b: (n(a), n(b)), LIFNode(step_mode='m', backend='fused'),
        torch.rand(3, 2, 4), torch.rand(3, 5, 4), match='call `snnlit.functional.reset_net(net)`', updates=(0,)),
    err('neuron.LIFNode', "step_mode switched to 'm', input still [B, ...]", lambda n, a: (n(a), setattr(n, 'step_mode', 'm'), n(a)),
        LIFNode(), torch.rand(2, 4), match="if you switched `step_mode` (now 'm')", updates=(0,)),
    err('neuron.IFNode', "step_mode switched to 's', input still [T, B, ...]", lambda n, a: (n(a), setattr(n, 'step_mode', 's'), n(a)),
        IFNode(step_mode='m'), torch.rand(3, 2, 4), match="if you switched `step_mode` (now 's')", updates=(0,)),
]
x_sw = torch.rand(6, 2, 3, generator=g, dtype=torch.float64) * 2
for kind in ('if', 'lif'):
    for backend in ('torch', 'fused'):
        def switched(x, k=kind, b=backend):
            n = node(k, backend=b)
            first = torch.stack([n(x_t) for x_t in x[:2]])
            n.step_mode = 'm'
            return torch.cat([first, n(x[2:])]).double()
        CASES.append(ok(target(kind), f'step_mode switched mid-sequence continues it ({backend})', switched, x_sw,
                        check=close(naive(x_sw, kind)[0])))

def margin(backend):
    def f(x, labels):
        n = LIFNode(step_mode='m', backend=backend)
        set_threshold_margin(n, labels, threshold0=0.8, threshold1=1.3)
        return n(x)
    return f
x_m, lab = torch.rand(5, 4, 3, generator=g) * 2, torch.eye(3)[[0, 2, 1, 1]]
def naive_margin(x, labels):
    vth = torch.where(labels == 1, 1.3, 0.8).double()
    out = torch.empty(x.shape, dtype=torch.float64)
    for b in range(x.shape[1]):
        for c in range(x.shape[2]):
            out[:, b, c] = naive(x[:, b, c], 'lif', v_threshold=vth[b, c].item())[0]
    return out
CASES.append(ok('neuron.LIFNode', "set_threshold_margin's per-sample thresholds under backend='fused'", margin('fused'), x_m, lab,
                check=lambda r: close(naive_margin(x_m, lab))(r.double())))

# ---- containers ---------------------------------------------------------------------------------------------------

lin, lin64 = nn.Linear(4, 3), nn.Linear(4, 3).double()
x_c = torch.randn(5, 2, 4, generator=g)
per_step = lambda x, m=lin: torch.stack([m(x_t) for x_t in x]).detach()
CASES += [
    terr('neuron.seq_fold_forward', 'modules not callable', lambda x: seq_fold_forward(3, x), x_c, match='`modules` must be callable'),
    terr('neuron.seq_fold_forward', 'x_seq a list', lambda: seq_fold_forward(lin, [[1.]]), match='`x_seq` must be a tensor [T, B, ...]'),
    err('neuron.seq_fold_forward', 'x_seq 1-d', lambda x: seq_fold_forward(lin, x), torch.randn(4), match='`x_seq` must be a tensor [T, B, ...] with at least 2 dimensions'),
    err('neuron.seq_fold_forward', 'modules returning another batch size', lambda x: seq_fold_forward(lambda y: y[:1], x), x_c,
        match='`modules` must return a tensor [T*B, ...] with T*B = 10'),
    err('neuron.seq_fold_forward', 'modules returning a tuple', lambda x: seq_fold_forward(lambda y: (y, y), x), x_c,
        match='`modules` must return a tensor [T*B, ...]'),
    ok('neuron.seq_fold_forward', 'Linear over [T, B, N]: the per-step Linear', lambda x: seq_fold_forward(lin, x).detach(), x_c, check=close(per_step(x_c))),
    ok('neuron.seq_fold_forward', 'T=0: an empty sequence', lambda x: seq_fold_forward(lin, x), torch.randn(0, 2, 4),
       check=shape_is(0, 2, 3)),
    ok('neuron.seq_fold_forward', 'B=0', lambda x: seq_fold_forward(lin, x), torch.randn(3, 0, 4),
       check=shape_is(3, 0, 3)),
    ok('neuron.seq_fold_forward', 'T=1, B=1', lambda x: seq_fold_forward(lin, x).detach(), (x := torch.randn(1, 1, 4, generator=g)), check=close(per_step(x))),
    ok('neuron.seq_fold_forward', 'int64 input through a module that takes indices', lambda x: seq_fold_forward(nn.Identity(), x),
       (xi := torch.arange(6).reshape(3, 2)), check=all_of(dtype_is(torch.int64), close(xi))),
    ok('neuron.seq_fold_forward', 'float64 input, dtype kept', lambda x: seq_fold_forward(lin64, x).detach(),
       (xd := torch.randn(3, 2, 4, generator=g, dtype=torch.float64)), check=all_of(dtype_is(torch.float64), close(per_step(xd, lin64)))),
    ok('neuron.seq_fold_forward', 'NaN and inf stay in their own step', lambda x: seq_fold_forward(nn.Identity(), x * 2), (xn := torch.tensor([[[nan]], [[inf]], [[1.]]])),
       check=close(xn * 2)),
]
bn = nn.BatchNorm1d(3).eval()
CASES += [
    terr('neuron.SeqToANNContainer', 'x_seq a list', lambda: SeqToANNContainer(lin)([[1.]]), match='`x_seq` must be a tensor [T, B, ...]'),
    err('neuron.SeqToANNContainer', 'x_seq 1-d', lambda x: SeqToANNContainer(lin)(x), torch.randn(4), match='with at least 2 dimensions'),
    err('neuron.SeqToANNContainer', 'wrong feature size', lambda x: SeqToANNContainer(nn.Linear(5, 3))(x), x_c, raises=RuntimeError, match='shapes cannot be multiplied'),
    ok('neuron.SeqToANNContainer', 'Linear: the per-step Linear', lambda x: SeqToANNContainer(lin)(x).detach(), x_c, check=close(per_step(x_c))),
    ok('neuron.SeqToANNContainer', 'Linear + BatchNorm (eval): per step', lambda x: SeqToANNContainer(lin, bn)(x).detach(), x_c,
       check=close(per_step(x_c, nn.Sequential(lin, bn)))),
    ok('neuron.SeqToANNContainer', 'T=0: an empty sequence', lambda x: SeqToANNContainer(lin)(x), torch.randn(0, 2, 4),
       check=shape_is(0, 2, 3)),
    ok('neuron.SeqToANNContainer', 'B=0 through a Conv2d', lambda x: SeqToANNContainer(nn.Conv2d(1, 2, 3))(x), torch.randn(2, 0, 1, 5, 5),
       check=shape_is(2, 0, 2, 3, 3)),
    ok('neuron.SeqToANNContainer', 'float16 input, dtype kept', lambda x: SeqToANNContainer(nn.Identity())(x), (xh := torch.randn(3, 2, 4, generator=g).half()),
       check=all_of(dtype_is(torch.float16), close(xh))),
]
def if_loop(x_seq):
    "The stateful container's answer written out: a fresh single-step IF neuron, one step at a time."
    n = IFNode()
    return torch.stack([n(x) for x in x_seq])
CASES += [
    terr('neuron.StepModeContainer', 'stateful forgotten (a module in its place)', lambda: StepModeContainer(nn.Linear(4, 3), IFNode()),
         match='`stateful` must be a bool (True or False), got Linear'),
    terr('neuron.StepModeContainer', 'stateful=1', lambda: StepModeContainer(1, nn.Linear(4, 3)), match='`stateful` must be a bool'),
    err('neuron.StepModeContainer', "step_mode='x'", lambda: StepModeContainer(True, IFNode(), step_mode='x'), match="`step_mode` must be one of ('s', 'm')"),
    terr('neuron.StepModeContainer', 'a non-module inside', lambda: StepModeContainer(False, 3), match='is not a Module subclass'),
    err('neuron.StepModeContainer', 'T=0, stateful', lambda x: StepModeContainer(True, nn.Linear(4, 3), IFNode(), step_mode='m')(x), torch.randn(0, 2, 4),
        match='`x` must hold at least one time step (T >= 1) for a stateful StepModeContainer'),
    ok('neuron.StepModeContainer', 'T=0, stateless: an empty sequence', lambda x: StepModeContainer(False, lin, step_mode='m')(x), torch.randn(0, 2, 4),
       check=shape_is(0, 2, 3)),
    err('neuron.StepModeContainer', 'x 1-d, stateful', lambda x: StepModeContainer(True, IFNode(), step_mode='m')(x), torch.randn(4),
        match='`x` must be a tensor [T, B, ...] with at least 2 dimensions'),
    terr('neuron.StepModeContainer', 'x a list, stateful', lambda: StepModeContainer(True, IFNode(), step_mode='m')([[1.]]),
         match='`x` must be a tensor [T, B, ...]'),
    ok('neuron.StepModeContainer', 'stateful [T, B, N]: the single-step loop',
       lambda x: StepModeContainer(True, lin, IFNode(), step_mode='m')(x).detach(), x_c, check=close(lambda: if_loop(per_step(x_c)))),
    ok('neuron.StepModeContainer', 'stateless: the per-step Linear', lambda x: StepModeContainer(False, lin, step_mode='m')(x).detach(), x_c,
       check=close(per_step(x_c))),
    ok('neuron.StepModeContainer', "step_mode 's' passes one step through", lambda x: StepModeContainer(False, lin)(x).detach(), x_c[0],
       check=close(lin(x_c[0]).detach())),
    ok('neuron.StepModeContainer', 'stateful T=1, B=1 IF neuron: the naive neuron', lambda x: StepModeContainer(True, IFNode(), step_mode='m')(x),
       (x11 := torch.tensor([[[1.5, 0.5]]])), check=lambda r: close(naive(x11, 'if')[0])(r.double())),
]


# v_threshold=+inf: never fires; the membrane integrates freely (hard reset never triggered), every backend
def _readout(kind, backend):
    def run(x_seq):
        node = (IFNode if kind == 'if' else LIFNode)(v_threshold=inf, step_mode='m', backend=backend, store_v_seq=True)
        x = x_seq.clone().requires_grad_(True)
        spikes = node(x)
        (spikes.sum() + node.v_seq.sum()).backward()
        return spikes.detach(), node.v_seq.detach(), x.grad
    return run

def _readout_check(x_seq, kind):
    def check(result):
        spikes, v_seq, grad = result
        v, vs = torch.zeros_like(x_seq[0]), []
        for x in x_seq:
            v = v + x if kind == 'if' else v + (x - v) / 2.
            vs.append(v)
        torch.testing.assert_close(spikes, torch.zeros_like(x_seq))
        torch.testing.assert_close(v_seq, torch.stack(vs))
        assert torch.isfinite(grad).all()
    return check

_x_readout = torch.randn(5, 3, 4, dtype=torch.float64, generator=g)
for kind in ('if', 'lif'):
    for backend in ('torch', 'fused'):
        CASES.append(ok(target(kind), f'v_threshold=inf read-out, backend={backend!r}', _readout(kind, backend), _x_readout,
                        check=_readout_check(_x_readout, kind)))

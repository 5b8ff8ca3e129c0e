"""Bad-input cases for `snnlit.neuron_triton`: the Triton multi-step IF/LIF kernels' entry point.

Without a GPU the kernels run in Triton's interpreter (TRITON_INTERPRET=1, set for the call only): slow, so
the inputs here are tiny. Results are checked against the naive neuron loop written out below.
"""
import math, os
import torch
from badinputs import err, terr, ok, close, dtype_is, all_of
from helpers import generator
from snnlit.neuron import IFNode, LIFNode
from snnlit.neuron_triton import triton_available, triton_multi_step

g = generator('neuron_triton')
inf, nan = math.inf, math.nan
DEVICE = 'cuda' if torch.cuda.is_available() else 'cpu'

def holds(pred, what):
    def check(result): assert pred(result), f'expected {what}, got {result!r}'
    return check

def naive_if(x_seq, v_reset=0.0, v_threshold=1.0):
    "Spikes of an IF neuron, one Python float at a time (a spike resets to v_reset, also from +inf)."
    T = x_seq.shape[0]
    flat = x_seq.double().reshape(T, -1).tolist()
    out = [[0.0] * len(flat[0]) for _ in range(T)]
    for i in range(len(flat[0])):
        v = 0.0 if v_reset is None else v_reset
        for t in range(T):
            h = v + flat[t][i]
            s = 1.0 if h - v_threshold >= 0 else 0.0
            v = (h - s * v_threshold) if v_reset is None else (v_reset if s else h)
            out[t][i] = s
    return torch.tensor(out, dtype=torch.float64).reshape(x_seq.shape)

def interpreted(fn):
    "Run `fn` with Triton's interpreter on a machine without a GPU."
    def call(*args):
        if DEVICE == 'cuda': return fn(*args)
        old = os.environ.get('TRITON_INTERPRET')
        os.environ['TRITON_INTERPRET'] = '1'
        try: return fn(*args)
        finally:
            if old is None: del os.environ['TRITON_INTERPRET']
            else: os.environ['TRITON_INTERPRET'] = old
    return call

def without_interpreter(fn):
    old = os.environ.pop('TRITON_INTERPRET', None)
    try: return fn()
    finally:
        if old is not None: os.environ['TRITON_INTERPRET'] = old

def step(node_fn, grad=False):
    "triton_multi_step on a fresh node; the spikes (and the input gradient) as float64 on the CPU."
    def f(x_seq):
        x = x_seq.to(DEVICE).requires_grad_(grad)
        s = triton_multi_step(node_fn(), x)
        if not grad: return s.double().cpu()
        s.sum().backward()
        return s.detach().double().cpu(), x.grad.cpu()
    return interpreted(f)

CASES = [
    ok('neuron_triton.triton_available', 'returns a bool', triton_available, check=holds(lambda r: isinstance(r, bool), 'a bool')),
    ok('neuron_triton.triton_available', 'does not import triton itself', lambda: (triton_available(), 'snnlit.neuron_triton')[1],
       check=holds(lambda r: isinstance(r, str), 'no error')),
]

if triton_available():
    x_small = torch.rand(3, 2, 3, generator=g) * 1.5
    x_bad = x_small.clone(); x_bad[0, 0, 0], x_bad[1, 1, 1], x_bad[2, 0, 2] = inf, -inf, nan
    CASES += [
        terr('neuron_triton.triton_multi_step', 'node not a neuron', lambda x: triton_multi_step(torch.nn.Identity(), x), x_small,
             match='`node` must be a snnlit neuron (an IFNode or LIFNode), got Identity'),
        terr('neuron_triton.triton_multi_step', 'node a string', lambda x: triton_multi_step('LIF', x), x_small, match='`node` must be a snnlit neuron'),
        terr('neuron_triton.triton_multi_step', 'x_seq a list', lambda: triton_multi_step(LIFNode(step_mode='m'), [[1.]]),
             match='`x_seq` must be a floating-point tensor [T, B, ...], got list'),
        terr('neuron_triton.triton_multi_step', 'x_seq int64', lambda x: triton_multi_step(LIFNode(step_mode='m'), x), torch.ones(3, 2, dtype=torch.int64),
             match='`x_seq` must be a floating-point tensor [T, B, ...]'),
        err('neuron_triton.triton_multi_step', 'x_seq 0-d', lambda x: triton_multi_step(LIFNode(step_mode='m'), x), torch.tensor(1.),
            match='`x_seq` must be a floating-point tensor [T, B, ...] with at least 1 dimension'),
        ok('neuron_triton.triton_multi_step', 'T=0: left to the loop (None)', lambda x: triton_multi_step(LIFNode(step_mode='m', backend='triton'), x),
           torch.rand(0, 2, 3), check=holds(lambda r: r is None, 'None')),
        ok('neuron_triton.triton_multi_step', 'an arbitrary callable surrogate: left to the loop (None)',
           lambda x: triton_multi_step(LIFNode(step_mode='m', surrogate_function=lambda v: (v >= 0).float()), x), x_small,
           check=holds(lambda r: r is None, 'None')),
        err('neuron_triton.triton_multi_step', 'batch size changed without reset',
            lambda x: (lambda n: (n(x), triton_multi_step(n, x[:, :1])))(IFNode(step_mode='m')), x_small, match='reset_net'),
        ok('neuron_triton.triton_multi_step', 'through IFNode(backend=triton) at T=0: an empty sequence',
           lambda x: IFNode(step_mode='m', backend='triton')(x), torch.rand(0, 2, 3), check=holds(lambda r: r.shape == (0, 2, 3), 'shape (0, 2, 3)')),
    ]
    if DEVICE == 'cpu':
        CASES.append(err('neuron_triton.triton_multi_step', 'a CPU tensor without the interpreter',
                         lambda x: without_interpreter(lambda: triton_multi_step(IFNode(step_mode='m'), x)), x_small,
                         match="backend='triton' runs on CUDA tensors, got a tensor on cpu"))
    CASES += [
        ok('neuron_triton.triton_multi_step', 'IF, hard reset: the naive loop', step(lambda: IFNode(step_mode='m')), x_small, check=close(naive_if(x_small))),
        ok('neuron_triton.triton_multi_step', 'IF, soft reset: the naive loop', step(lambda: IFNode(step_mode='m', v_reset=None)), x_small,
           check=close(naive_if(x_small, v_reset=None))),
        ok('neuron_triton.triton_multi_step', '±inf and NaN input: the naive loop (a spike from +inf resets)',
           step(lambda: IFNode(step_mode='m', v_reset=-0.25)), x_bad, check=close(naive_if(x_bad, v_reset=-0.25))),
        ok('neuron_triton.triton_multi_step', '+inf input: finite gradients, as the fused backend',
           step(lambda: IFNode(step_mode='m'), grad=True), x_bad[:1].clone().abs(),
           check=holds(lambda r: bool(torch.isfinite(r[1]).all()), 'finite gradients')),
        ok('neuron_triton.triton_multi_step', 'T=1, B=1', step(lambda: IFNode(step_mode='m')), (x11 := torch.tensor([[[1.5, 0.5]]])), check=close(naive_if(x11))),
        ok('neuron_triton.triton_multi_step', 'B=0', step(lambda: IFNode(step_mode='m')), torch.rand(2, 0, 3), check=holds(lambda r: r.shape == (2, 0, 3), 'shape (2, 0, 3)')),
        ok('neuron_triton.triton_multi_step', 'float64 kept', interpreted(lambda x: triton_multi_step(IFNode(step_mode='m'), x.to(DEVICE)).cpu()),
           (x64 := x_small.double()), check=all_of(dtype_is(torch.float64), close(naive_if(x64)))),
        ok('neuron_triton.triton_multi_step', "per-sample thresholds: left to the loop (None)",
           lambda x: triton_multi_step((lambda n: (setattr(n, 'v_threshold', torch.full((2, 3), 0.8)), n)[1])(IFNode(step_mode='m')), x),
           x_small, check=holds(lambda r: r is None, 'None')),
    ]

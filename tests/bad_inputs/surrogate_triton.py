"""Bad-input cases for `snnlit.surrogate_triton`: the one-kernel surrogate backward, run in Triton's interpreter here.

The g'(x) oracles are the ones of the surrogate cases (tests/bad_inputs/surrogate.py), written per element in Python.
"""
import importlib.util, math, os
import torch
from badinputs import err, terr, ok, finite, all_of, zero_d
from helpers import generator
from bad_inputs.surrogate import NAIVE, naive, near, exact
from snnlit import surrogate as S
from snnlit.surrogate_triton import triton_surrogate_backward

g = generator('surrogate_triton')
T = 'surrogate_triton.triton_surrogate_backward'
HAS_TRITON = importlib.util.find_spec('triton') is not None
inf, nan = math.inf, math.nan

def interpreted(fn):
    "fn, called with TRITON_INTERPRET=1 (the kernel runs on CPU tensors in Triton's interpreter), the setting restored after."
    def call(*args, **kwargs):
        before = os.environ.get('TRITON_INTERPRET')
        os.environ['TRITON_INTERPRET'] = '1'
        try: return fn(*args, **kwargs)
        finally:
            if before is None: del os.environ['TRITON_INTERPRET']
            else: os.environ['TRITON_INTERPRET'] = before
    return call

run = interpreted(triton_surrogate_backward)

def is_none(result): assert result is None, f'expected None (the PyTorch formula is kept), got {type(result).__name__}'

def rand(*shape, dtype=torch.float32): return (torch.randn(*shape, generator=g, dtype=torch.float64) * 2).to(dtype)

# the formulas with a kernel branch, with the hyper-parameters the surrogate cases use
FORMULAS = [(name, fn.surrogate_backward, list(params.values()), deriv) for name, (fn, params, _, deriv) in NAIVE.items()
            if name != 'StraightThroughEstimator']
xe = torch.tensor([-inf, -3e38, -1e4, -60.0, 0.0, 60.0, 1e4, 3e38, inf])

CASES = []
if HAS_TRITON:
    for name, backward, p, deriv in FORMULAS:
        for dtype in (torch.float32, torch.float16, torch.bfloat16):
            x, go = rand(7, 5, dtype=dtype), torch.rand(7, 5, generator=g).to(dtype)
            CASES.append(ok(T, f'{name} {dtype}', run, backward, go, x, tuple(p), check=near(lambda x=x, go=go, p=p, d=deriv: naive(d, x, p, go), dtype)))
        CASES.append(ok(T, f'{name} ±inf and ±huge: finite, the limits', run, backward, torch.ones(9), xe, tuple(p),
                        check=all_of(finite, near(lambda p=p, d=deriv: naive(d, xe, p), torch.float32))))
        CASES.append(ok(T, f'{name} 0-d float64 hyper-parameters (module buffers)', run, backward, torch.ones(6), (xs := rand(6)),
                        tuple(zero_d(v, torch.float64) for v in p), check=near(lambda xs=xs, p=p, d=deriv: naive(d, xs, p), torch.float32)))
    x, xn = rand(11), torch.tensor([0.5, nan, -0.25])
    atan_p = list(NAIVE['ATan'][1].values())
    CASES += [
        ok(T, 'scalar grad_output broadcasts', run, S._atan_backward, torch.tensor(0.5), x, (1.7,),
           check=near(lambda: naive(NAIVE['ATan'][3], x, atan_p) * 0.5, torch.float32)),
        ok(T, 'params as a list', run, S._atan_backward, torch.ones(11), x, [1.7], check=near(lambda: naive(NAIVE['ATan'][3], x, atan_p), torch.float32)),
        ok(T, 'non-contiguous x and grad_output', run, S._erf_backward, (gt := torch.rand(4, 6, generator=g)).t(), (xt := rand(4, 6)).t(), (2.2,),
           check=near(lambda: naive(NAIVE['Erf'][3], xt.t(), [2.2], gt.t()), torch.float32)),
        ok(T, 'empty x', run, S._atan_backward, torch.ones(0, 3), torch.ones(0, 3), (2.0,), check=exact(torch.ones(0, 3))),
        ok(T, 'one element', run, S._atan_backward, torch.ones(1), torch.zeros(1), (2.0,), check=exact(torch.ones(1))),
        ok(T, 'NaN x: NaN gradient only there', run, S._atan_backward, torch.ones(3), xn, (1.7,),
           check=lambda r: near(lambda: naive(NAIVE['ATan'][3], xn[[0, 2]], atan_p), torch.float32)(r[[0, 2]])),
    ]

# the cases that keep the PyTorch formula, and the arguments refused: no kernel runs
CASES += [
    ok(T, 'float64 keeps the PyTorch formula', run, S._atan_backward, torch.ones(4, dtype=torch.float64), rand(4, dtype=torch.float64), (2.0,), check=is_none),
    ok(T, 'grad_output of another dtype keeps the PyTorch formula', run, S._atan_backward, torch.ones(4, dtype=torch.float16), rand(4), (2.0,), check=is_none),
    ok(T, 'a broadcast grad_output keeps the PyTorch formula', run, S._atan_backward, torch.ones(1, 4), rand(3, 4), (2.0,), check=is_none),
    ok(T, 'a formula outside the table keeps PyTorch', run, lambda g, x, a: g, torch.ones(4), rand(4), (2.0,), check=is_none),
    ok(T, 'the straight-through estimator needs no kernel', run, S._straight_through_backward, torch.ones(4), rand(4), (), check=is_none),
    ok(T, 'CPU tensors without the interpreter keep PyTorch', lambda *a: triton_surrogate_backward(*a) if os.environ.get('TRITON_INTERPRET', '0') != '1' else None,
       S._atan_backward, torch.ones(4), rand(4), (2.0,), check=is_none),
]
ERRORS = [
    (terr, 'int64 x', (S._atan_backward, torch.ones(3), torch.arange(3), (2.0,)), '`x` must be a floating-point tensor, got a torch.int64 tensor'),
    (terr, 'bool x', (S._atan_backward, torch.ones(3), torch.ones(3, dtype=torch.bool), (2.0,)), '`x` must be a floating-point tensor'),
    (terr, 'x a list', (S._atan_backward, torch.ones(3), [0.0, 1.0, 2.0], (2.0,)), '`x` must be a floating-point tensor, got list'),
    (terr, 'int grad_output', (S._atan_backward, torch.ones(3, dtype=torch.int32), rand(3), (2.0,)), '`grad_output` must be a floating-point tensor'),
    (terr, 'grad_output None', (S._atan_backward, None, rand(3), (2.0,)), '`grad_output` must be a floating-point tensor, got None'),
    (terr, 'formula not callable', ('atan', torch.ones(3), rand(3), (2.0,)), "`surrogate_backward` must be callable, got 'atan'"),
    (terr, 'params a number', (S._atan_backward, torch.ones(3), rand(3), 2.0), '`params` must be a tuple of hyper-parameters, got 2.0'),
    (terr, 'params missing', (S._atan_backward, torch.ones(3), rand(3), ()), '`params` must be a tuple of 1 hyper-parameter (alpha), got tuple ()'),
    (terr, 'one param too many', (S._atan_backward, torch.ones(3), rand(3), (2.0, 1.0)), '`params` must be a tuple of 1 hyper-parameter (alpha)'),
    (terr, 'two params needed', (S._spike_rate_escape_backward, torch.ones(3), rand(3), (1.0,)), '`params` must be a tuple of 2 hyper-parameters (beta, slope)'),
    (err, 'negative alpha', (S._atan_backward, torch.ones(3), rand(3), (-2.0,)), '`alpha` must be a finite real number > 0, got -2.0'),
    (err, 'zero w', (S._piecewise_leaky_relu_backward, torch.ones(3), rand(3), (0.0, 0.01)), '`w` must be a finite real number > 0, got 0.0'),
    (err, 'nan c', (S._piecewise_leaky_relu_backward, torch.ones(3), rand(3), (1.0, nan)), '`c` must be a finite real number, got nan'),
    (err, 'inf slope', (S._fast_sigmoid_backward, torch.ones(3), rand(3), (inf,)), '`slope` must be a finite real number > 0, got inf'),
    (terr, 'bool alpha', (S._atan_backward, torch.ones(3), rand(3), (True,)), '`alpha` must be a finite real number, got True'),
    (terr, 'str alpha', (S._atan_backward, torch.ones(3), rand(3), ('2',)), "`alpha` must be a finite real number, got '2'"),
    (terr, '1-d tensor alpha', (S._atan_backward, torch.ones(3), rand(3), (torch.ones(2),)), '`alpha` must be a real number or a real 0-d tensor, got a torch.float32 tensor of shape (2,)'),
    (terr, 'bool 0-d tensor beta', (S._spike_rate_escape_backward, torch.ones(3), rand(3), (torch.tensor(True), 1.0)), '`beta` must be a real number or a real 0-d tensor'),
    (terr, 'complex 0-d tensor threshold', (S._triangular_backward, torch.ones(3), rand(3), (torch.tensor(1 + 1j),)), '`threshold` must be a real number or a real 0-d tensor'),
]
for make, label, args, match in ERRORS: CASES.append(make(T, label, run, *args, match=match))
# (a meta tensor cannot be snapshotted for the mutation check, so it is made inside the call)
CASES.append(err(T, 'grad_output on another device', lambda x: run(S._atan_backward, torch.ones(3, device='meta'), x, (2.0,)), rand(3),
                 match='arguments must lie on one device, got `grad_output` on meta, `x` on cpu'))

"""Bad-input cases for `snnlit.surrogate`: every surrogate module, its functional form, the step and the helpers.

Each result is checked against g(x) or g'(x) written out per element in Python (float64) right here.
"""
import math
import torch
from torch import nn
from badinputs import err, terr, ok, close, finite, dtype_is, all_of, zero_d, grad_of
from oracles import DERIVATIVES
from helpers import generator
from snnlit import surrogate as S

g = generator('surrogate')
inf, nan = math.inf, math.nan
FLOATS = (torch.float16, torch.bfloat16, torch.float32, torch.float64)
HALF = (torch.float16, torch.bfloat16)

# ---- naive oracles: g(v, *p) (the primitive) and g'(v, *p) (the surrogate gradient), one Python float at a time

def _exp(z): return math.exp(z) if z < 700 else inf
def _sig(z): return 1 / (1 + _exp(-z))
def _sq(t): return t * t   # never raises OverflowError, unlike t ** 2

def _softsign(u): return math.copysign(1.0, u) if math.isinf(u) else u / (1 + abs(u))

def _fast_sigmoid(v, k):
    if abs(v) <= 1: return v / (1 + k * abs(v))
    return math.copysign(1.0, v) / (1 / abs(v) + k)   # the same value, without k|v| overflowing

def _leak(v, w, c):
    if abs(v) <= w: return v / (2 * w) + 0.5
    t = v + w if v < 0 else v - w
    return (0.0 if c == 0 else c * t) + (1.0 if v > 0 else 0.0)

def _log1p_scaled(t, a):
    "log(1 + a t), also where a t overflows a float64"
    return math.log1p(a * t) if t <= 1 else math.log(t) + math.log(a + 1 / t)

def _tri(v, w):
    u = max(-1.0, min(1.0, v / w))
    return 0.5 + u - 0.5 * u * abs(u)

# name: (functional form, hyper-parameters used here (not the defaults), g); g' has one home, the oracle table
PRIMITIVES = {
    'PiecewiseQuadratic': (S.piecewise_quadratic, dict(alpha=1.3),
                           lambda v, a: 0.0 if v < -1 / a else 1.0 if v > 1 / a else -0.5 * a * a * abs(v) * v + a * v + 0.5),
    'PiecewiseExp': (S.piecewise_exp, dict(alpha=1.3), lambda v, a: 0.5 * _exp(a * v) if v < 0 else 1 - 0.5 * _exp(-a * v)),
    'Sigmoid': (S.sigmoid, dict(alpha=4.5), lambda v, a: _sig(a * v)),
    'SoftSign': (S.soft_sign, dict(alpha=2.5), lambda v, a: 0.5 * (_softsign(a * v) + 1)),
    'ATan': (S.atan, dict(alpha=1.7), lambda v, a: math.atan(math.pi / 2 * a * v) / math.pi + 0.5),
    'NonzeroSignLogAbs': (S.nonzero_sign_log_abs, dict(alpha=1.2), lambda v, a: (1 if v >= 0 else -1) * _log1p_scaled(abs(v), a)),
    'Erf': (S.erf, dict(alpha=2.2), lambda v, a: 0.5 * math.erfc(-a * v)),
    'PiecewiseLeakyReLU': (S.piecewise_leaky_relu, dict(w=0.8, c=0.05), _leak),
    'FastSigmoid': (S.fast_sigmoid_function, dict(slope=20.0), _fast_sigmoid),
    'Triangular': (S.triangular_function, dict(threshold=0.9), _tri),
    'StraightThroughEstimator': (S.straight_through_estimator_function, {}, lambda v: v + 0.5),
    'SpikeRateEscape': (S.spike_rate_escape_function, dict(beta=1.5, slope=20.0),
                        lambda v, b, k: k / b * (_exp(b * (v - 1)) if v < 1 else 2 - _exp(-b * (v - 1)))),
}
NAIVE = {name: (fn, p, g, DERIVATIVES[getattr(S, name).kernel_id]) for name, (fn, p, g) in PRIMITIVES.items()}

# which hyper-parameters must be > 0 (the rest: any finite real)
POSITIVE = {'alpha', 'w', 'slope', 'threshold', 'beta'}

def naive(fn, x, p, grad_out=None):
    "fn applied per element to x (in float64), times grad_out where given."
    vals = [fn(v, *p) for v in x.double().reshape(-1).tolist()]
    out = torch.tensor(vals, dtype=torch.float64).reshape(x.shape)
    return out if grad_out is None else out * grad_out.double()

# tolerances for a result in `dtype` against a float64 oracle, relative to the largest expected value
TOL = {torch.float16: (4e-3, 2e-3), torch.bfloat16: (3e-2, 1.6e-2), torch.float32: (2e-6, 1e-6), torch.float64: (1e-12, 1e-13)}

def near(expected_fn, dtype):
    "A check: result has `dtype` and equals expected_fn() (float64) within the dtype's tolerance."
    def check(result):
        assert result.dtype == dtype, f'dtype {result.dtype}, expected {dtype}'
        exp = expected_fn()
        rtol, atol = TOL[dtype]
        finite_values = exp[torch.isfinite(exp)]
        scale = max(finite_values.abs().max().item(), 1.0) if finite_values.numel() else 1.0   # surrogates are O(1)
        torch.testing.assert_close(result.double(), exp, rtol=rtol, atol=atol * scale, equal_nan=True)
    return check

def exact(expected):
    def check(result): assert torch.equal(result, expected), f'{result} != {expected}'
    return check

def both(check0, check1):
    "A check of a pair of results."
    def check(result): check0(result[0]); check1(result[1])
    return check

def is_a(cls):
    def check(result): assert isinstance(result, cls), f'{type(result).__name__}, expected {cls.__name__}'
    return check

def rand(*shape, dtype=torch.float32, scale=2.0):
    return (torch.randn(*shape, generator=g, dtype=torch.float64) * scale).to(dtype)

def step(x): return (x.double() >= 0).to(x.dtype)   # the heaviside step, written out

# ---- heaviside --------------------------------------------------------------------------------------------------

CASES = []
H = 'surrogate.heaviside'
for dt in FLOATS:
    x = rand(4, 5, dtype=dt)
    CASES.append(ok(H, f'{dt} keeps the dtype', S.heaviside, x, check=exact(step(x))))
x = torch.tensor([-1.0, -0.0, 0.0, 1e-30, -1e-30, inf, -inf, nan])
CASES += [
    ok(H, '±0, tiny, ±inf and NaN (NaN does not fire)', S.heaviside, x, check=exact(torch.tensor([0., 1, 1, 1, 0, 1, 0, 0]))),
    ok(H, 'empty [3, 0]', S.heaviside, torch.empty(3, 0), check=exact(torch.empty(3, 0))),
    ok(H, '0-d', S.heaviside, torch.tensor(-0.5, dtype=torch.float64), check=exact(torch.tensor(0., dtype=torch.float64))),
    ok(H, 'non-contiguous', S.heaviside, (xt := rand(4, 6)).t(), check=exact(step(xt.t()))),
    terr(H, 'int64 x', S.heaviside, torch.arange(3), match='`x` must be a floating-point tensor, got a torch.int64 tensor'),
    terr(H, 'bool x', S.heaviside, torch.tensor([True]), match='`x` must be a floating-point tensor, got a torch.bool tensor'),
    terr(H, 'complex x', S.heaviside, torch.zeros(2, dtype=torch.complex64), match='`x` must be a floating-point tensor'),
    terr(H, 'list x', S.heaviside, [0.5, -1.0], match='`x` must be a floating-point tensor, got list'),
    terr(H, 'Python float x', S.heaviside, 0.5, match='`x` must be a floating-point tensor, got 0.5'),
]

# ---- every surrogate module and its functional form ------------------------------------------------------------

def bad_values(name):
    "(label, value, exception, message) for one hyper-parameter, as Python numbers and as 0-d tensors."
    pos = name in POSITIVE
    what = f'`{name}` must be a finite real number' + (' > 0' if pos else '')
    rows = [('nan', nan, ValueError, what), ('inf', inf, ValueError, what), ('-inf', -inf, ValueError, what),
            ('0-d nan', zero_d(nan), ValueError, what), ('0-d inf', zero_d(inf), ValueError, what),
            ('str', '2', TypeError, f'`{name}` must be a finite real number, got \'2\''),
            ('bool', True, TypeError, f'`{name}` must be a finite real number, got True'),
            ('None', None, TypeError, f'`{name}` must be a finite real number, got None'),
            ('0-d bool tensor', torch.tensor(True), TypeError, f'`{name}` must be a finite real number'),
            ('1-d tensor', torch.tensor([1.0, 2.0]), TypeError, f'`{name}` must be a finite real number, got a torch.float32 tensor of shape (2,)'),
            ('complex', 1 + 2j, TypeError, f'`{name}` must be a finite real number')]
    if pos:
        rows += [('negative', -1.5, ValueError, f'{what}, got -1.5'), ('zero', 0.0, ValueError, f'{what}, got 0.0'),
                 ('int zero', 0, ValueError, f'{what}, got 0'),
                 ('0-d negative', zero_d(-2.0), ValueError, f'{what}, got a 0-d torch.float32 tensor holding -2.0'),
                 ('0-d zero float64', zero_d(0.0, torch.float64), ValueError, what),
                 ('0-d negative int', torch.tensor(-3), ValueError, what)]
    return rows

def module_cases(cls_name):
    fn, params, prim, deriv = NAIVE[cls_name]
    cls = getattr(S, cls_name)
    T = f'surrogate.{cls_name}'
    F = f'surrogate.{fn.__name__}'
    p = list(params.values())
    out = []
    make = lambda spiking=True, **kw: cls(**{**params, **kw}, spiking=spiking)

    # hyper-parameters, at construction and in the functional form
    for i, name in enumerate(params):
        for label, value, exc, msg in bad_values(name):
            out.append(err(T, f'{name} {label}', lambda v, name=name: make(**{name: v}), value, match=msg, raises=exc))
            args = p[:i] + [value] + p[i + 1:]
            out.append(err(F, f'{name} {label}', lambda x, *a: fn.apply(x, *a), rand(5), *args, match=msg, raises=exc))
        good = zero_d(params[name] * 1.5)
        out.append(ok(T, f'{name} as a valid 0-d tensor', lambda v, name=name: getattr(make(**{name: v}), name), good,
                      check=lambda r, good=good: type(r) is float and r == good.item()))
        out.append(ok(T, f'{name} as a valid 0-d int tensor', lambda v, name=name: getattr(make(**{name: v}), name),
                      torch.tensor(3), check=lambda r: type(r) is float and r == 3.0))
    for label, spiking in (('int', 1), ('None', None), ('str', 'yes')):
        out.append(terr(T, f'spiking {label}', lambda s: make(spiking=s), spiking, match='`spiking` must be a bool (True or False)'))
        out.append(terr(T, f'set_spiking_mode {label}', lambda m, s: m.set_spiking_mode(s), make(), spiking,
                        match='`spiking` must be a bool (True or False)'))
    # a hyper-parameter on another device than x (a meta tensor stands for a GPU one; made inside the call, since a
    # meta tensor cannot be snapshotted for the mutation check)
    if p:
        on_meta = lambda p=p: [torch.tensor(p[0], device='meta')] + p[1:]
        first = list(params)[0]
        out.append(err(F, f'{first} on another device', lambda x: fn.apply(x, *on_meta()), rand(3),
                       match=f'`{first}` must lie on the device of `x` (cpu) or on the CPU, got a tensor on meta'))
        out.append(err(T, f'{first} buffer on another device', lambda m, x: (setattr(m, first, torch.tensor(p[0], device='meta')), m(x)), make(), rand(3),
                       match=f'`{first}` must lie on the device of `x` (cpu) or on the CPU, got a tensor on meta', updates=(0,)))
    # the functional form: number of hyper-parameters, x's kind
    out.append(terr(F, 'one hyper-parameter too many', lambda x: fn.apply(x, *p, 1.0), rand(3),
                    match=f'`{fn.__name__}.apply(x, ...)` takes {len(p)} hyper-parameter'))
    if p: out.append(terr(F, 'hyper-parameters missing', lambda x: fn.apply(x), rand(3),
                          match=f'`{fn.__name__}.apply(x, ...)` takes {len(p)} hyper-parameter'))
    for label, x in (('int64 x', torch.arange(4)), ('bool x', torch.ones(3, dtype=torch.bool)), ('list x', [0.1, 0.2])):
        out.append(terr(F, label, lambda x: fn.apply(x, *p), x, match='`x` must be a floating-point tensor'))
        for mode, spiking, training in (('spiking', True, True), ('primitive', False, True), ('eval', True, False)):
            out.append(terr(T, f'{label} ({mode})', lambda m, x: m(x), make(spiking).train(training), x,
                            match='`x` must be a floating-point tensor'))

    # right answers: forward is the step exactly, backward g'(x) (spiking); g and g' (primitive), in every float dtype
    for dt in FLOATS:
        x, go = rand(6, 7, dtype=dt), torch.rand(6, 7, generator=g).to(dt)
        out.append(ok(T, f'{dt} spiking forward', lambda m, x: m(x), make(), x, check=all_of(dtype_is(dt), exact(step(x)))))
        out.append(ok(T, f'{dt} spiking gradient', lambda m, x, go: grad_of(lambda t: m(t) * go, x), make(), x, go,
                      check=near(lambda x=x, go=go: naive(deriv, x, p, go), dt)))
        out.append(ok(T, f'{dt} primitive forward', lambda m, x: m(x), make(False), x,
                      check=near(lambda x=x: naive(prim, x, p), dt)))
        out.append(ok(T, f'{dt} primitive gradient', lambda m, x, go: grad_of(lambda t: m(t) * go, x), make(False), x, go,
                      check=near(lambda x=x, go=go: naive(deriv, x, p, go), dt)))
        out.append(ok(T, f'{dt} eval mode is the step', lambda m, x: m(x), make(False).eval(), x,
                      check=all_of(dtype_is(dt), exact(step(x)))))
        out.append(ok(F, f'{dt} forward and gradient', lambda x, go: (fn.apply(x, *p), grad_of(lambda t: fn.apply(t, *p) * go, x)), x, go,
                      check=both(exact(step(x)), near(lambda x=x, go=go: naive(deriv, x, p, go), dt))))
        # extremes: ±inf, the dtype's largest finite values, and large ones; every gradient finite and right
        big = torch.finfo(dt).max
        xe = torch.tensor([-inf, -big, -1e4, -60.0, 60.0, 95.0, 1e4, big, inf], dtype=torch.float64).to(dt)
        for mode, spiking in (('spiking', True), ('primitive', False)):
            out.append(ok(T, f'{dt} {mode} gradient at ±inf and ±huge', lambda m, x: grad_of(m, x), make(spiking), xe,
                          check=all_of(finite, near(lambda xe=xe: naive(deriv, xe, p), dt))))
        out.append(ok(T, f'{dt} primitive at ±inf and ±huge', lambda m, x: m(x), make(False), xe,
                      check=near(lambda xe=xe: naive(prim, xe, p), dt)))
    # 0-d tensor hyper-parameters in the functional form, and module buffers in half precision
    if p:
        x, go = rand(9), torch.rand(9, generator=g)
        out.append(ok(F, '0-d tensor hyper-parameters', lambda x, go, *a: grad_of(lambda t: fn.apply(t, *a) * go, x), x, go,
                      *[zero_d(v, torch.float64) for v in p], check=near(lambda x=x, go=go: naive(deriv, x, p, go), torch.float32)))
        out.append(ok(T, 'float16 buffers (module.half()) keep a float32 input float32', lambda m, x: m(x), make(False).half(), x,
                      check=dtype_is(torch.float32)))
    # NaN: no spike, NaN gradient there only; the other elements keep theirs
    xn = torch.tensor([0.3, nan, -0.2, 1.5])
    for mode, spiking in (('spiking', True), ('primitive', False)):
        out.append(ok(T, f'NaN input ({mode}): NaN gradient only there', lambda m, x: grad_of(m, x), make(spiking), xn,
                      check=lambda r, xn=xn: near(lambda: naive(deriv, xn[~xn.isnan()], p), torch.float32)(r[~xn.isnan()])))
    out.append(ok(T, 'NaN input (spiking) does not fire', lambda m, x: m(x), make(), xn, check=exact(torch.tensor([1., 0, 0, 1]))))
    # shapes: empty, one element, 0-d, a non-contiguous view
    for label, x in (('empty [0]', torch.empty(0)), ('empty [2, 0, 3]', torch.empty(2, 0, 3)), ('one element', torch.tensor([0.25])),
                     ('0-d', torch.tensor(-0.4)), ('non-contiguous', rand(5, 4).t())):
        gradient = near(lambda x=x: naive(deriv, x, p), torch.float32)
        out.append(ok(T, f'{label} (spiking)', lambda m, x: (m(x), grad_of(m, x)), make(), x, check=both(exact(step(x)), gradient)))
        out.append(ok(T, f'{label} (primitive)', lambda m, x: (m(x), grad_of(m, x)), make(False), x,
                      check=both(near(lambda x=x: naive(prim, x, p), torch.float32), gradient)))
    return out

for name in NAIVE: CASES += module_cases(name)

# PiecewiseLeakyReLU with no leak (c = 0) at ±inf: the primitive's limits 0 and 1, not 0·inf = NaN
xe = torch.tensor([-inf, -3.0, 0.2, 3.0, inf])
CASES += [
    ok('surrogate.PiecewiseLeakyReLU', 'c=0 primitive at ±inf', lambda m, x: (m(x), grad_of(m, x)), S.PiecewiseLeakyReLU(c=0.0, spiking=False), xe,
       check=both(exact(torch.tensor([0., 0., 0.6, 1., 1.])), exact(torch.tensor([0., 0., 0.5, 0., 0.])))),
    ok('surrogate.PiecewiseLeakyReLU', 'negative c is a finite real: accepted', lambda: S.PiecewiseLeakyReLU(c=-0.1).c, check=lambda r: r == -0.1),
    ok('surrogate.PiecewiseLeakyReLU', 'repr', lambda: repr(S.PiecewiseLeakyReLU(w=0.5, c=0.1)),
       check=lambda r: r == 'PiecewiseLeakyReLU(w=0.5, c=0.1, spiking=True)'),
]

# ---- the snntorch-style factories -------------------------------------------------------------------------------

FACTORIES = [('fast_sigmoid', S.FastSigmoid, dict(slope=20.0)), ('triangular', S.Triangular, dict(threshold=0.9)),
             ('straight_through_estimator', S.StraightThroughEstimator, {}),
             ('spike_rate_escape', S.SpikeRateEscape, dict(beta=1.5, slope=20.0))]
for fname, cls, params in FACTORIES:
    T, factory = f'surrogate.{fname}', getattr(S, fname)
    _, _, prim, deriv = NAIVE[cls.__name__]
    p = list(params.values())
    x, go = rand(8, dtype=torch.float64), torch.rand(8, generator=g, dtype=torch.float64)
    CASES.append(ok(T, 'returns the module, gradient as the table', lambda x, go, factory=factory, p=p: (factory(*p), grad_of(lambda t: factory(*p)(t) * go, x)), x, go,
                    check=both(is_a(cls), near(lambda x=x, go=go, p=p, deriv=deriv: naive(deriv, x, p, go), torch.float64))))
    for dt in HALF:
        xh = rand(8, dtype=dt)
        CASES.append(ok(T, f'{dt} kept', lambda x, factory=factory, p=p: factory(*p)(x), xh, check=all_of(dtype_is(dt), exact(step(xh)))))
    for i, name in enumerate(params):
        for label, value, exc, msg in bad_values(name)[:6] + bad_values(name)[-6:]:
            args = p[:i] + [value] + p[i + 1:]
            CASES.append(err(T, f'{name} {label}', lambda *a, factory=factory: factory(*a), *args, match=msg, raises=exc))
    CASES.append(terr(T, 'int x', lambda x, factory=factory, p=p: factory(*p)(x), torch.arange(3), match='`x` must be a floating-point tensor'))
CASES.append(terr('surrogate.straight_through_estimator', 'takes no argument', lambda: S.straight_through_estimator(1.0),
                  match='takes 0 positional arguments'))

# ---- the base classes -------------------------------------------------------------------------------------------

MB, SB = 'surrogate.MultiArgsSurrogateFunctionBase', 'surrogate.SurrogateFunctionBase'
for label, value, exc, msg in bad_values('gamma'):   # 'gamma' is not in POSITIVE: the base only asks for finite reals
    CASES.append(err(MB, f'hyper-parameter {label}', lambda v: S.MultiArgsSurrogateFunctionBase(gamma=v), value, match=msg, raises=exc))
for label, value, exc, msg in bad_values('gamma'):
    CASES.append(err(SB, f'alpha {label}', lambda v: S.SurrogateFunctionBase(v), value, match=msg.replace('`gamma`', '`alpha`'), raises=exc))
CASES += [
    ok(MB, 'hyper-parameters are floats, in keyword order, and no buffers', lambda: (list(S.MultiArgsSurrogateFunctionBase(b=2, a=zero_d(-1.5)).hyper_parameters().items()),
       list(S.MultiArgsSurrogateFunctionBase(b=2).buffers())), check=lambda r: r == ([('b', 2.0), ('a', -1.5)], []) and all(type(v) is float for _, v in r[0])),
    terr(MB, 'spiking not a bool', lambda: S.MultiArgsSurrogateFunctionBase('yes', a=1.0), match='`spiking` must be a bool (True or False), got \'yes\''),
    err(MB, 'no functions defined: forward in training', lambda m, x: m(x), S.MultiArgsSurrogateFunctionBase(a=1.0), rand(3),
        match='subclasses define `spiking_function(x, *params)`', raises=NotImplementedError),
    err(MB, 'no primitive defined', lambda m, x: m(x), S.MultiArgsSurrogateFunctionBase(False, a=1.0), rand(3),
        match='subclasses define `primitive_function(x, *params)`', raises=NotImplementedError),
    ok(MB, 'eval mode is the step even without functions', lambda m, x: m(x), S.MultiArgsSurrogateFunctionBase(a=1.0).eval(), (xs := rand(5)),
       check=exact(step(xs))),
    terr(MB, 'int x', lambda m, x: m(x), S.MultiArgsSurrogateFunctionBase(a=1.0).eval(), torch.arange(3), match='`x` must be a floating-point tensor'),
    ok(MB, 'repr', lambda: repr(S.MultiArgsSurrogateFunctionBase(a=1.5, b=-2)), check=lambda r: r == 'MultiArgsSurrogateFunctionBase(a=1.5, b=-2, spiking=True)'),
    ok(SB, 'a negative alpha is the subclass\'s business', lambda: S.SurrogateFunctionBase(-1.0).alpha, check=lambda r: r == -1.0),
    ok(SB, '0-d alpha', lambda: S.SurrogateFunctionBase(zero_d(2.5)).alpha, check=lambda r: type(r) is float and r == 2.5),
    terr(SB, 'spiking not a bool', lambda: S.SurrogateFunctionBase(1.0, spiking=0), match='`spiking` must be a bool (True or False), got 0'),
    ok(SB, 'hyper-parameters stay out of the state_dict', lambda m: (m.load_state_dict(S.ATan(alpha=3.0).state_dict(), strict=True), m.alpha)[1],
       S.ATan(), check=lambda r: r == 2.0),
    ok(MB, 'hyper_parameters in order', lambda: S.PiecewiseLeakyReLU(w=0.5, c=0.1).hyper_parameters(), check=lambda r: list(r.items()) == [('w', 0.5), ('c', 0.1)]),
]

# ---- spike_function ---------------------------------------------------------------------------------------------

SF = 'surrogate.spike_function'
_box = lambda grad_output, x, w: grad_output * (x.abs() < w / 2) / w
box = S.spike_function('box', _box, params={'w': dict(gt=0)})
box_free = S.spike_function('box_free', _box)
xb = torch.tensor([-1.0, -0.2, 0.0, 0.3, 0.6])
CASES += [
    ok(SF, 'a user surrogate: step forward, g\' backward', lambda x: (box.apply(x, 1.0), grad_of(lambda t: box.apply(t, 1.0), x)), xb,
       check=lambda r: (exact(torch.tensor([0., 0, 1, 1, 1]))(r[0]), exact(torch.tensor([0., 1, 1, 1, 0]))(r[1]))),
    ok(SF, 'params=None: hyper-parameters unchecked', lambda x: box_free.apply(x, -1.0), xb, check=exact(step(xb))),
    ok(SF, '.unchecked skips the value check (the module path)', lambda x: box.unchecked.apply(x, zero_d(-1.0)), xb, check=exact(step(xb))),
    ok(SF, 'the doc string', lambda: box.__doc__, check=lambda r: '<lambda>' in r),
    err(SF, 'checked: negative w', lambda x: box.apply(x, -1.0), xb, match='`w` must be a finite real number > 0, got -1.0'),
    err(SF, 'checked: 0-d nan w', lambda x: box.apply(x, zero_d(nan)), xb, match='`w` must be a finite real number > 0'),
    terr(SF, 'checked: missing w', lambda x: box.apply(x), xb, match='`box.apply(x, ...)` takes 1 hyper-parameter after `x` (`w`), got 0'),
    terr(SF, 'backward not callable', lambda: S.spike_function('f', 3.0), match='`surrogate_backward` must be callable, got 3.0'),
    terr(SF, 'name not a str', lambda: S.spike_function(None, _box), match='`name` must be a str, got None'),
    terr(SF, 'params a list of names', lambda: S.spike_function('f', _box, params=['w']), match="`params` must be None or a dict {name: check_real bounds}"),
    terr(SF, 'params bounds not a dict', lambda: S.spike_function('f', _box, params={'w': 0}), match="`params` must be None or a dict"),
    terr(SF, 'int x', lambda x: box_free.apply(x, 1.0), torch.arange(3), match='`x` must be a floating-point tensor'),
    ok(SF, 'float16 kept', lambda x: grad_of(lambda t: box.apply(t, 1.0), x), xb.half(), check=all_of(dtype_is(torch.float16), exact(torch.tensor([0., 1, 1, 1, 0], dtype=torch.float16)))),
]

# ---- check_manual_grad ------------------------------------------------------------------------------------------

CM = 'surrogate.check_manual_grad'
wrong = S.spike_function('wrong', lambda g, x, a: 2 * S.ATan.spiking_function.__self__.surrogate_backward(g, x, a))
CASES += [
    ok(CM, 'ATan passes in float32', S.check_manual_grad, S.ATan.primitive_function, S.ATan.spiking_function, 2.0, check=lambda r: 0 <= r <= 1e-5),
    ok(CM, 'every surrogate passes in float64', lambda: max(S.check_manual_grad(getattr(S, n).primitive_function, getattr(S, n).spiking_function,
                                                                                 *NAIVE[n][1].values(), eps=1e-12, dtype=torch.float64) for n in NAIVE),
       check=lambda r: r <= 1e-12),
    err(CM, 'a gradient twice too large', S.check_manual_grad, S.ATan.primitive_function, wrong.apply, 2.0, match='manual gradient differs', raises=AssertionError),
    err(CM, 'negative eps', lambda: S.check_manual_grad(S.ATan.primitive_function, S.ATan.spiking_function, eps=-1.0), match='`eps` must be a finite real number >= 0, got -1.0'),
    err(CM, 'nan eps', lambda: S.check_manual_grad(S.ATan.primitive_function, S.ATan.spiking_function, eps=nan), match='`eps` must be a finite real number >= 0'),
    terr(CM, 'str eps', lambda: S.check_manual_grad(S.ATan.primitive_function, S.ATan.spiking_function, eps='1e-5'), match='`eps` must be a finite real number'),
    err(CM, 'integer dtype', lambda: S.check_manual_grad(S.ATan.primitive_function, S.ATan.spiking_function, dtype=torch.int64),
        match='`dtype` must be a floating-point torch.dtype, got dtype torch.int64'),
    terr(CM, 'dtype as a string', lambda: S.check_manual_grad(S.ATan.primitive_function, S.ATan.spiking_function, dtype='float32'),
         match='`dtype` must be a floating-point torch.dtype'),
    terr(CM, 'primitive not callable', lambda: S.check_manual_grad(None, S.ATan.spiking_function), match='`primitive_function` must be callable, got None'),
    terr(CM, 'spiking function not callable', lambda: S.check_manual_grad(S.ATan.primitive_function, 'atan'), match='`spiking_function` must be callable'),
    err(CM, 'a primitive that is NaN fails (NaN is never <= eps)', lambda: S.check_manual_grad(lambda x, a: x * nan, S.ATan.spiking_function),
        match='manual gradient differs', raises=AssertionError),
]

# ---- plot_surrogate_function -------------------------------------------------------------------------------------

import matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plt

def _plotted(ax):
    "the three drawn curves (heaviside, g, g') as float64 tensors; closes the figure"
    ys = [torch.as_tensor(line.get_ydata(), dtype=torch.float64) for line in ax.get_lines()]
    plt.close(ax.figure)
    return ys

PL = 'surrogate.plot_surrogate_function'
xp = torch.linspace(-2, 2, 41, dtype=torch.float64)
CASES += [
    ok(PL, 'default x: step, g, g\'', lambda m: _plotted(S.plot_surrogate_function(m)), S.ATan(alpha=1.7),
       check=lambda ys: near(lambda: naive(NAIVE['ATan'][3], torch.linspace(-2, 2, 401), [1.7]), torch.float32)(ys[2].float())),
    ok(PL, 'bfloat16 x is drawn (matplotlib reads no bfloat16)', lambda m, x: _plotted(S.plot_surrogate_function(m, x)), S.Erf(alpha=2.2), xp.bfloat16(),
       check=lambda ys: near(lambda: naive(NAIVE['Erf'][2], xp.bfloat16(), [2.2]), torch.bfloat16)(ys[1].bfloat16())),
    ok(PL, 'x that requires grad is not changed', lambda m, x: _plotted(S.plot_surrogate_function(m, x)), S.SpikeRateEscape(beta=1.5, slope=20.0),
       xp.clone().requires_grad_(), check=lambda ys: near(lambda: naive(NAIVE['SpikeRateEscape'][3], xp, [1.5, 20.0]), torch.float64)(ys[2])),
    ok(PL, 'the straight-through estimator (no hyper-parameter)', lambda m: _plotted(S.plot_surrogate_function(m, xp)), S.StraightThroughEstimator(),
       check=lambda ys: exact(torch.ones(41, dtype=torch.float64))(ys[2])),
    terr(PL, 'not a surrogate module', lambda: S.plot_surrogate_function(nn.Linear(2, 2)), match='`surrogate` must be a surrogate module such as ATan(), got Linear'),
    terr(PL, 'a function, not a module', lambda: S.plot_surrogate_function(S.atan), match='`surrogate` must be a surrogate module'),
    terr(PL, 'int x', lambda m, x: S.plot_surrogate_function(m, x), S.ATan(), torch.arange(5), match='`x` must be a floating-point tensor'),
    err(PL, '2-d x', lambda m, x: S.plot_surrogate_function(m, x), S.ATan(), torch.zeros(3, 4), match='`x` must be a floating-point tensor with 1 dimension'),
    terr(PL, 'x a list', lambda m: S.plot_surrogate_function(m, [0.0, 1.0]), S.ATan(), match='`x` must be a floating-point tensor, got list'),
    terr(PL, 'ax not an Axes', lambda m: S.plot_surrogate_function(m, ax='left'), S.ATan(), match="`ax` must be a matplotlib Axes or None, got 'left'"),
    ok(PL, 'on a given axis, a NaN in x', lambda m, x: _plotted(S.plot_surrogate_function(m, x, ax=plt.subplots()[1])), S.Sigmoid(), torch.tensor([nan, 0.0]),
       check=lambda ys: near(lambda: torch.tensor([nan, 1.0], dtype=torch.float64), torch.float32)(ys[2].float())),
]
